// Package deploy holds the deployment kit of secondme-bridge, not Go code:
// the Helm chart (helm/), the systemd unit (systemd/), the compose load
// balancer (compose/), the Grafana dashboard and Prometheus alerts
// (observability/) and the goreleaser config. Its tests check those files
// (and the repository's Dockerfile and docker-compose.yaml): shape,
// hardening, health checks, timeouts longer than the shutdown timeout, and
// `systemd-analyze verify` where it is installed. `helm lint` and
// `helm template` run in .ci/run (helm is pinned in tools/go.mod, its own
// module).
package deploy
