package cloudtrail

import (
	"context"
	"runtime"
	"sync"
)

// cpuReadAhead is how many local files are decoded ahead: one per core
// beside the caller's, which judges, up to three. Decoding is about twice
// the work of judging, so two or three decoders keep the judge busy, and
// each file ahead is held in memory.
func cpuReadAhead() int { return min(runtime.GOMAXPROCS(0)-1, 3) }

// s3ReadAhead is how many S3 objects are fetched ahead: a GET's latency,
// not the CPU, is what they wait on, so even one core gains.
const s3ReadAhead = 4

// readAheadMax is the largest file decoded ahead of its turn: its events
// are held until the sink takes them, so bigger files are read in turn,
// streaming. CloudTrail's own files are usually far smaller.
const readAheadMax = 4 << 20

// readAhead decodes the next files on other cores (or waits for the next
// S3 objects) while the sink judges earlier ones. The sink and Warn still
// see everything in the order a sequential read gives, from the caller's
// goroutine: decoding, two thirds of a read's work, runs in parallel;
// judging stays ordered.
type readAhead struct {
	ctx    context.Context
	cancel context.CancelFunc
	opts   Options
	sink   Sink
	depth  int    // files decoded ahead at most
	queue  []*job // submitted and not yet handed over, in order
	err    error  // the first error: it ends the read
}

// job is one file read ahead: what it delivered and warned, in order.
type job struct {
	done  chan struct{}
	items []item
	err   error
}

// item is an event, or a warning when warn is set.
type item struct {
	ev   Event
	warn error
}

// newReadAhead reads up to depth files ahead; at 0 every file is read in
// turn, as a plain sequential read.
func newReadAhead(ctx context.Context, opts Options, sink Sink, depth int) *readAhead {
	ctx, cancel := context.WithCancel(ctx)
	return &readAhead{ctx: ctx, cancel: cancel, opts: opts, sink: sink, depth: depth}
}

// read runs one file's read: ahead of its turn when ahead, else in turn
// once the files before it are handed over.
func (a *readAhead) read(ahead bool, run func(ctx context.Context, opts Options, sink Sink) error) error {
	if a.err != nil {
		return a.err
	}
	if !ahead || a.depth < 1 {
		if err := a.handOver(0); err != nil {
			return err
		}
		return run(a.ctx, a.opts, a.sink)
	}
	j := &job{done: make(chan struct{})}
	a.queue = append(a.queue, j)
	opts := a.opts
	var mu sync.Mutex // Warn may be called from the read's own goroutines
	opts.Warn = func(err error) { mu.Lock(); j.items = append(j.items, item{warn: err}); mu.Unlock() }
	go func() {
		defer close(j.done)
		j.err = run(a.ctx, opts, func(ev Event) error {
			mu.Lock()
			j.items = append(j.items, item{ev: ev})
			mu.Unlock()
			return nil
		})
	}()
	return a.handOver(a.depth) // judge the oldest while the newer decode
}

// warn reports a problem met between files, in its place in the order.
func (a *readAhead) warn(err error) {
	if len(a.queue) == 0 {
		a.opts.warn(err)
		return
	}
	j := &job{done: make(chan struct{}), items: []item{{warn: err}}}
	close(j.done)
	a.queue = append(a.queue, j)
}

// handOver gives the sink the queued files' events until at most keep
// remain queued.
func (a *readAhead) handOver(keep int) error {
	for len(a.queue) > keep && a.err == nil {
		j := a.queue[0]
		a.queue = a.queue[1:]
		<-j.done
		for _, it := range j.items {
			if it.warn != nil {
				a.opts.warn(it.warn)
			} else if err := a.sink(it.ev); err != nil {
				a.err = err
				break
			}
		}
		if a.err == nil {
			a.err = j.err
		}
	}
	return a.err
}

// finish hands over what is left; after an error it waits for the reads
// still running, so none outlives the call.
func (a *readAhead) finish() error {
	err := a.handOver(0)
	a.cancel()
	for _, j := range a.queue {
		<-j.done
	}
	a.queue = nil
	return err
}
