package scan

import "syscall"

// cpuSeconds is the CPU time this process has used, so benchmarks can report
// throughput per CPU second, which holds on a busy machine where wall time
// does not.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
