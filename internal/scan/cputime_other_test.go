//go:build !linux

package scan

// cpuSeconds is not measured off Linux; benchmarks then report wall time only.
func cpuSeconds() float64 { return 0 }
