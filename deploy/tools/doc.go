// Package tools pins the deployment tools that CI runs (helm, for
// `helm lint` and `helm template` on deploy/helm/secondme-bridge) in a
// module of their own, so the bridge's go.mod stays small. Run them with
// `go tool -modfile=deploy/tools/go.mod helm ...` from the repository root,
// or `cd deploy/tools && go tool helm ...`.
package tools
