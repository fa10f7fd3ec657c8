package scan

import (
	"io"
	"sync"
	"sync/atomic"
)

// Env is what every source needs besides its own input: the detector, where
// findings go, counters for progress, and where to send problems it carried on past.
type Env struct {
	Detector *Detector
	Sink     Sink
	Stats    *Stats
	Warn     func(error) // a problem the scan carried on past (unreadable file, missing object)
}

// Sink receives findings. Implementations must be safe for concurrent use.
type Sink interface {
	Add(Finding)
}

// Stats counts work done, for progress lines and the summary. Safe for concurrent use.
type Stats struct {
	Bytes   atomic.Int64 // bytes handed to the detector
	Objects atomic.Int64 // files, archive members or git blobs scanned
	Skipped atomic.Int64 // binary, oversized or unreadable items passed over
	phase   atomic.Pointer[string]
}

// SetPhase names the work under way, for the progress line: "files of
// src", "objects of repo (3 packs, 120 loose)", ...
func (s *Stats) SetPhase(phase string) { s.phase.Store(&phase) }

// Phase is the work under way ("" before any).
func (s *Stats) Phase() string {
	if p := s.phase.Load(); p != nil {
		return *p
	}
	return ""
}

// Collector is a Sink that keeps every finding in memory.
type Collector struct {
	mu       sync.Mutex
	findings []Finding
}

// Add implements Sink.
func (c *Collector) Add(f Finding) {
	c.mu.Lock()
	c.findings = append(c.findings, f)
	c.mu.Unlock()
}

// Findings returns what was collected so far.
func (c *Collector) Findings() []Finding {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Finding(nil), c.findings...)
}

// ScanReader runs the detector over r and sends every match, located at loc,
// to env.Sink. It counts the bytes and the object in env.Stats.
func (env Env) ScanReader(r io.Reader, loc Location) error {
	n, err := env.Detector.FindReader(r, func(m Match) {
		env.Sink.Add(NewFinding(m, loc))
	})
	if env.Stats != nil {
		env.Stats.Bytes.Add(n)
		env.Stats.Objects.Add(1)
	}
	return err
}

// ScanBytes is ScanReader for content already in memory.
func (env Env) ScanBytes(data []byte, loc Location) {
	for _, m := range env.Detector.Find(data) {
		env.Sink.Add(NewFinding(m, loc))
	}
	if env.Stats != nil {
		env.Stats.Bytes.Add(int64(len(data)))
		env.Stats.Objects.Add(1)
	}
}
