package awsfile

import (
	"fmt"
	"strings"
	"testing"
)

// benchFile is a credentials file with 200 profiles (about 20 KB).
func benchFile() []byte {
	var b strings.Builder
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&b, "# profile %d\n[p%d]\naws_access_key_id = ID%d\naws_secret_access_key = S%d\nregion = us-east-1\n\n", i, i, i, i)
	}
	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	data := benchFile()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data, Credentials); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSet(b *testing.B) {
	data := benchFile()
	f, _ := Parse(data, Credentials)
	b.SetBytes(int64(len(data)))
	i := 0
	for b.Loop() {
		i++
		if err := f.Set("p100", "aws_access_key_id", fmt.Sprint("NEW", i)); err != nil {
			b.Fatal(err)
		}
	}
}
