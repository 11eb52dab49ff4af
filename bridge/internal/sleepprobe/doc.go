// Command sleepprobe measures how late a process that does nothing but
// sleep wakes up: it sleeps 7 ms at a time for a while and prints the
// overshoot's percentiles. Run beside the engine benchmark
// (bridge/bench_test.go, hence its place here), it shows the machine's
// wake-up floor under that load, apart from the benchmark's own process
// (README, Performance):
//
//	go run ./bridge/internal/sleepprobe -for 5s
//	chrt -f 50 go run ./bridge/internal/sleepprobe -for 5s   # real-time priority
package main
