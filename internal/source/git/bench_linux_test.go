package git

import (
	"syscall"
	"testing"
	"time"
)

// reportRusage splits CPU time between this process and the git children.
func reportRusage(b *testing.B) {
	for _, who := range []struct {
		name string
		id   int
	}{{"self", syscall.RUSAGE_SELF}, {"children", syscall.RUSAGE_CHILDREN}} {
		var ru syscall.Rusage
		if syscall.Getrusage(who.id, &ru) != nil {
			continue
		}
		cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		b.Logf("%s: user %v sys %v cpu %v maxrss %d MiB", who.name,
			time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano()), cpu, ru.Maxrss>>10)
	}
}
