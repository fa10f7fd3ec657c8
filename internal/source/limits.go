package source

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// ErrLimit is wrapped by every warning about an archive cut short by one of
// the ArchiveLimits.
var ErrLimit = errors.New("archive limit exceeded")

// ArchiveLimits bound the work one top-level archive can cause, so that a
// decompression bomb costs a warning instead of the machine. Zero fields take
// the defaults below.
type ArchiveLimits struct {
	// MaxExpanded bounds the bytes produced by all decompressors of one
	// top-level archive, nested layers included.
	MaxExpanded int64
	// MaxMember bounds the decompressed size of one member.
	MaxMember int64
	// MaxMembers bounds the number of members of one top-level archive, nested ones included.
	MaxMembers int
	// MaxRatio bounds decompressed/compressed size of a member or stream once
	// it has produced more than ratioFloor bytes.
	MaxRatio int64
	// MaxInMemory is how much of a zip with no random access (nested, or on
	// stdin) is held in memory; beyond it the zip is spilled to a temp file.
	MaxInMemory int64
}

// Defaults: generous for real source trees and release tarballs, far below
// what a bomb would need to hurt.
const (
	DefaultMaxArchiveDepth = 3
	defaultMaxExpanded     = 1 << 30
	defaultMaxMember       = 256 << 20
	defaultMaxMembers      = 100_000
	defaultMaxRatio        = 200
	defaultMaxInMemory     = 32 << 20
	// ratioFloor keeps the ratio check from firing on small, very repetitive
	// files (a page of spaces compresses a thousandfold and is harmless).
	ratioFloor = 1 << 20
)

func (l ArchiveLimits) withDefaults() ArchiveLimits {
	if l.MaxExpanded <= 0 {
		l.MaxExpanded = defaultMaxExpanded
	}
	if l.MaxMember <= 0 {
		l.MaxMember = defaultMaxMember
	}
	if l.MaxMembers <= 0 {
		l.MaxMembers = defaultMaxMembers
	}
	if l.MaxRatio <= 0 {
		l.MaxRatio = defaultMaxRatio
	}
	if l.MaxInMemory <= 0 {
		l.MaxInMemory = defaultMaxInMemory
	}
	return l
}

// limitError is what a guarded read returns past a limit. fatal means the
// whole top-level archive must stop (as opposed to just this member).
type limitError struct {
	limit string
	max   int64
	fatal bool
}

func (e *limitError) Error() string {
	return fmt.Sprintf("%s: %s over %d", ErrLimit, e.limit, e.max)
}

func (e *limitError) Unwrap() error { return ErrLimit }

// countingReader counts the bytes read through it (the compressed side of a
// decompressor, for the ratio check; an archive's input, to say where it
// ended) and whether it reached the end.
type countingReader struct {
	r   io.Reader
	n   int64
	eof bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.eof = c.eof || err == io.EOF
	return n, err
}

// guardReader wraps the output of a decompressor: it enforces the member,
// total and ratio limits and honours cancellation.
type guardReader struct {
	ctx     context.Context
	r       io.Reader
	run     *archiveRun
	out     int64
	counted int64        // part of out already added to run.expanded
	max     int64        // bound on out
	err     *limitError  // once past a limit, every later read fails the same way
	in      func() int64 // compressed bytes consumed so far, for the ratio check
}

func (g *guardReader) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if err := g.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := g.r.Read(p)
	g.out += int64(n)
	if lerr := g.check(); lerr != nil {
		g.err = lerr // sticky: the same error object is reported once by archiveRun.fail
		return n, lerr
	}
	return n, err
}

func (g *guardReader) check() *limitError {
	lim := g.run.lim
	g.run.expanded += g.out - g.counted
	g.counted = g.out
	switch {
	case g.run.expanded > lim.MaxExpanded:
		return &limitError{limit: "expanded size", max: lim.MaxExpanded, fatal: true}
	case g.out > g.max:
		return &limitError{limit: "member size", max: g.max}
	case g.out > ratioFloor && g.out > g.in()*lim.MaxRatio:
		return &limitError{limit: "compression ratio", max: lim.MaxRatio}
	}
	return nil
}

// ctxReader makes a long read of a plain file stop when ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
