package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
)

// zipBuffer is a zip's bytes held for random access: in memory, or in a
// temp file once they outgrow lim.MaxInMemory.
type zipBuffer struct {
	ra    io.ReaderAt
	size  int64
	close func()
}

// bufferZip reads a zip that has no random access (nested in another archive,
// or on stdin) so that archive/zip can read its central directory.
func bufferZip(ctx context.Context, r io.Reader, lim ArchiveLimits) (*zipBuffer, error) {
	r = ctxReader{ctx, r}
	var mem bytes.Buffer
	n, err := io.Copy(&mem, io.LimitReader(r, lim.MaxInMemory+1))
	if err != nil {
		return nil, fmt.Errorf("buffer zip: %w", err)
	}
	if n <= lim.MaxInMemory {
		return &zipBuffer{ra: bytes.NewReader(mem.Bytes()), size: n, close: func() {}}, nil
	}
	return spillZip(io.MultiReader(&mem, r), lim)
}

// spillZip writes the zip to a temp file, removed by close. Its size is
// bounded by lim.MaxExpanded: a nested zip is also bounded by the reader it
// comes from, stdin only by this.
func spillZip(r io.Reader, lim ArchiveLimits) (*zipBuffer, error) {
	f, err := os.CreateTemp("", "keywarden-zip-*")
	if err != nil {
		return nil, fmt.Errorf("buffer zip: %w", err)
	}
	cleanup := func() {
		f.Close()
		os.Remove(f.Name())
	}
	n, err := io.Copy(f, io.LimitReader(r, lim.MaxExpanded+1))
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("buffer zip: %w", err)
	}
	if n > lim.MaxExpanded {
		cleanup()
		return nil, &limitError{limit: "buffered zip size", max: lim.MaxExpanded}
	}
	return &zipBuffer{ra: f, size: n, close: cleanup}, nil
}
