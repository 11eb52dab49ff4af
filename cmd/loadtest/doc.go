// Command loadtest runs the load test of the real secondme-bridge binary
// (package internal/loadtest) and prints its report: make loadtest, or
//
//	go run ./cmd/loadtest -bin bin/secondme-bridge -n 200 -store bolt -global-rate 50
package main
