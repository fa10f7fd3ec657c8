package source

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/keywarden/keywarden/internal/scan"
)

// ScanStdin scans standard input (plain text or an archive), with the default limits.
func ScanStdin(ctx context.Context, r io.Reader, env scan.Env) error {
	return ScanStdinWith(ctx, r, FSOptions{}, env)
}

// ScanStdinWith is ScanStdin with the archive depth and limits of opts.
// Content is streamed; an archive (told by its magic bytes) is opened, its
// members located as "-!member". Unlike files in a tree, binary input is
// scanned anyway: the user piped it in on purpose.
func ScanStdinWith(ctx context.Context, r io.Reader, opts FSOptions, env scan.Env) error {
	if err := scanStream(ctx, r, opts, withDefaults(env), "stdin", "-"); err != nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return ctx.Err()
}

// scanNamedStream scans a root that is neither a directory nor a regular
// file — a pipe such as <(cmd) — the way stdin is scanned.
func scanNamedStream(ctx context.Context, root, disp string, opts FSOptions, env scan.Env) error {
	f, err := os.Open(root)
	if err != nil {
		return rootErr(root, err)
	}
	defer f.Close()
	if err := scanStream(ctx, f, opts, env, "file", disp); err != nil {
		return fmt.Errorf("scan %s: %w", root, err)
	}
	return ctx.Err()
}

// scanStream scans content that can only be read once, front to back.
func scanStream(ctx context.Context, r io.Reader, opts FSOptions, env scan.Env, source, path string) error {
	br := bufio.NewReaderSize(ctxReader{ctx, r}, sniffLen)
	head, err := br.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return err
	}
	if k := sniff(head); k != kindPlain {
		newArchiveRun(ctx, env, opts, path, source).scanTop(k, br, nil, -1)
		return nil
	}
	if err := env.ScanReader(br, scan.Location{Source: source, Path: path, InHead: true}); err != nil && ctx.Err() == nil {
		return err
	}
	return nil
}
