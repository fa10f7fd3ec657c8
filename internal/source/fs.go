// Package source reads the places keys leak into — files, directories,
// archives, stdin — and hands their bytes to the detector.
package source

import (
	"context"
	"io"

	"github.com/keywarden/keywarden/internal/scan"
)

// FSOptions tune a file-system scan.
type FSOptions struct {
	// Skip reports whether a path (slash-separated, relative to the scanned root) is allowlisted away.
	Skip func(rel string) bool
	// MaxArchiveDepth bounds archives inside archives (0 = default).
	MaxArchiveDepth int
}

// ScanFS scans a file or a directory tree. TODO(fs agent): implement.
func ScanFS(ctx context.Context, root string, opts FSOptions, env scan.Env) error { return nil }

// ScanStdin scans standard input (plain text or an archive). TODO(fs agent): implement.
func ScanStdin(ctx context.Context, r io.Reader, env scan.Env) error { return nil }
