package english

import "testing"

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 records", 1: "1 record", 2: "2 records"} {
		if got := Count(n, "record"); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHomePath(t *testing.T) {
	t.Setenv("HOME", "/home/u")
	for path, want := range map[string]string{
		"/home/u/.aws/credentials": "~/.aws/credentials",
		"/home/uv/x":               "/home/uv/x",
		"/etc/aws":                 "/etc/aws",
	} {
		if got := HomePath(path); got != want {
			t.Errorf("HomePath(%q) = %q, want %q", path, got, want)
		}
	}
}
