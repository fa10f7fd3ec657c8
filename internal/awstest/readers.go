package awstest

import "io"

// Endless is a stream that never ends, every byte its value: hostile-input
// tests feed it where a file or a pipe would go on forever.
type Endless byte

func (e Endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// Counting counts the bytes read through it, so a test can assert that a
// reader stopped at its bound (a count, never a time).
type Counting struct {
	R io.Reader
	N int64
}

func (c *Counting) Read(p []byte) (int, error) {
	n, err := c.R.Read(p)
	c.N += int64(n)
	return n, err
}
