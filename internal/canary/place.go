package canary

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/keywarden/keywarden/internal/atomicfile"
	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
)

// A placement's block is the bytes keywarden added to its file. The record
// keeps it as a template (Placement.Template): the block with the key id,
// the secret and the date replaced by placeholders, so that nothing secret
// is kept and yet the block is found again, whatever key it holds, to be
// rewritten by a rotation or cut out, byte for byte, by a delete.
const (
	phID       = "{{id}}"
	phID64     = "{{id64}}"
	phSecret   = "{{secret}}"
	phSecret64 = "{{secret64}}"
	phDate     = "{{date}}"
)

var placeholder = regexp.MustCompile(`\{\{(id|id64|secret|secret64|date)\}\}`)

// What each placeholder matches when the block is looked for.
var placeholderRE = map[string]string{
	phID:       `[A-Z0-9]{16,128}`,
	phID64:     `[A-Za-z0-9+/=]{16,200}`,
	phSecret:   `[A-Za-z0-9+/=]{16,128}`,
	phSecret64: `[A-Za-z0-9+/=]{16,200}`,
	phDate:     `[0-9T:.+Z-]{10,40}`,
}

// values are what a block is rendered from.
type values struct {
	name, user, date string
	key              credential.Key
}

// format is one placement format.
type format struct {
	// whole: the format is a file of its own (JSON, CSV, a workflow); the
	// file must not exist yet.
	whole bool
	// sets are line prefixes the file must not have already: the variables
	// the block defines, which a second definition would shadow.
	sets []string
	// block renders the bytes to append to existing.
	block func(existing []byte, v values) ([]byte, error)
}

// Formats are the placement formats, by name.
var formats = map[string]format{
	"credentials": {block: credentialsBlock},
	"dotenv":      {sets: envVars(""), block: envBlock("")},
	"envfile":     {sets: envVars(""), block: envBlock("")},
	"export":      {sets: envVars("export "), block: envBlock("export ")},
	"tfvars":      {sets: []string{"aws_access_key ", "aws_access_key=", "aws_secret_key ", "aws_secret_key="}, block: tfvarsBlock},
	"k8s":         {block: k8sBlock},
	"json":        {whole: true, block: jsonBlock},
	"csv":         {whole: true, block: csvBlock},
	"gha":         {whole: true, block: ghaBlock},
}

// FormatNames lists the placement formats in the order the docs give them.
var FormatNames = []string{"credentials", "dotenv", "export", "json", "tfvars", "k8s", "envfile", "csv", "gha"}

// ParsePlacement reads FORMAT:PATH.
func ParsePlacement(s string) (Placement, error) {
	f, path, ok := strings.Cut(s, ":")
	if _, known := formats[f]; !ok || !known || path == "" {
		return Placement{}, fmt.Errorf("--place %q: want FORMAT:PATH, FORMAT one of %s", s, strings.Join(FormatNames, ", "))
	}
	return Placement{Format: f, Path: path}, nil
}

func envVars(prefix string) []string {
	return []string{prefix + "AWS_ACCESS_KEY_ID=", prefix + "AWS_SECRET_ACCESS_KEY="}
}

// lead is what goes before an appended block: a newline when the file does
// not end with one.
func lead(existing []byte) string {
	if len(existing) > 0 && !bytes.HasSuffix(existing, []byte("\n")) {
		return "\n"
	}
	return ""
}

// credentialsBlock is the profile section the awsfile editor appends, so the
// file reads exactly as the aws CLI would write it and the SDK reads it back.
func credentialsBlock(existing []byte, v values) ([]byte, error) {
	f, err := awsfile.Parse(existing, awsfile.Credentials)
	if err != nil {
		return nil, err
	}
	if f.HasProfile(v.name) {
		return nil, fmt.Errorf("profile [%s] is already there", v.name)
	}
	if err := f.Set(v.name, "aws_access_key_id", v.key.ID); err != nil {
		return nil, err
	}
	if err := f.Set(v.name, "aws_secret_access_key", v.key.Secret.Reveal()); err != nil {
		return nil, err
	}
	out := f.Bytes()
	if !bytes.HasPrefix(out, existing) {
		return nil, errors.New("the profile cannot be appended without changing the file's other bytes")
	}
	return out[len(existing):], nil
}

func envBlock(prefix string) func([]byte, values) ([]byte, error) {
	return func(existing []byte, v values) ([]byte, error) {
		return []byte(lead(existing) + prefix + "AWS_ACCESS_KEY_ID=" + v.key.ID + "\n" +
			prefix + "AWS_SECRET_ACCESS_KEY=" + v.key.Secret.Reveal() + "\n"), nil
	}
}

// tfvarsBlock sets the variables the AWS provider's examples name.
func tfvarsBlock(existing []byte, v values) ([]byte, error) {
	return []byte(lead(existing) + `aws_access_key = "` + v.key.ID + "\"\n" +
		`aws_secret_key = "` + v.key.Secret.Reveal() + "\"\n"), nil
}

// k8sBlock is a Secret as 'kubectl create secret generic --dry-run=client
// -o yaml' prints it, a document of its own after any already in the file.
func k8sBlock(existing []byte, v values) ([]byte, error) {
	sep := ""
	if len(existing) > 0 {
		sep = lead(existing) + "---\n"
	}
	b64 := base64.StdEncoding.EncodeToString
	return []byte(sep + "apiVersion: v1\ndata:\n" +
		"  AWS_ACCESS_KEY_ID: " + b64([]byte(v.key.ID)) + "\n" +
		"  AWS_SECRET_ACCESS_KEY: " + b64([]byte(v.key.Secret.Reveal())) + "\n" +
		"kind: Secret\nmetadata:\n  creationTimestamp: null\n  name: " + v.name + "\n"), nil
}

// jsonBlock is what 'aws iam create-access-key' prints.
func jsonBlock(_ []byte, v values) ([]byte, error) {
	return []byte("{\n    \"AccessKey\": {\n" +
		"        \"UserName\": \"" + v.user + "\",\n" +
		"        \"AccessKeyId\": \"" + v.key.ID + "\",\n" +
		"        \"Status\": \"Active\",\n" +
		"        \"SecretAccessKey\": \"" + v.key.Secret.Reveal() + "\",\n" +
		"        \"CreateDate\": \"" + v.date + "\"\n    }\n}\n"), nil
}

// csvBlock is the accessKeys.csv the IAM console offers for download.
func csvBlock(_ []byte, v values) ([]byte, error) {
	return []byte("Access key ID,Secret access key\n" + v.key.ID + "," + v.key.Secret.Reveal() + "\n"), nil
}

// ghaBlock is a GitHub Actions workflow with the key in its env: block.
func ghaBlock(_ []byte, v values) ([]byte, error) {
	return []byte("name: deploy\n\non:\n  push:\n    branches: [main]\n\n" +
		"env:\n  AWS_ACCESS_KEY_ID: " + v.key.ID + "\n  AWS_SECRET_ACCESS_KEY: " + v.key.Secret.Reveal() +
		"\n  AWS_DEFAULT_REGION: us-east-1\n\n" +
		"jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n" +
		"      - run: aws s3 sync ./public s3://" + v.name + "-site --delete\n"), nil
}

// templateOf turns a rendered block into its template.
func templateOf(block []byte, v values) string {
	s := string(block)
	b64 := base64.StdEncoding.EncodeToString
	for _, r := range []struct{ value, ph string }{
		{b64([]byte(v.key.Secret.Reveal())), phSecret64},
		{v.key.Secret.Reveal(), phSecret},
		{b64([]byte(v.key.ID)), phID64},
		{v.key.ID, phID},
		{v.date, phDate},
	} {
		if r.value != "" {
			s = strings.ReplaceAll(s, r.value, r.ph)
		}
	}
	return s
}

// render fills a template with v.
func render(tmpl string, v values) []byte {
	b64 := base64.StdEncoding.EncodeToString
	return []byte(strings.NewReplacer(phSecret64, b64([]byte(v.key.Secret.Reveal())), phSecret, v.key.Secret.Reveal(),
		phID64, b64([]byte(v.key.ID)), phID, v.key.ID, phDate, v.date).Replace(tmpl))
}

// find locates the block of tmpl in data, whatever key it holds: its start
// and end, or -1 when it is not there.
func find(data []byte, tmpl string) (int, int, error) {
	var re strings.Builder
	last := 0
	for _, m := range placeholder.FindAllStringIndex(tmpl, -1) {
		re.WriteString(regexp.QuoteMeta(tmpl[last:m[0]]))
		re.WriteString(placeholderRE[tmpl[m[0]:m[1]]])
		last = m[1]
	}
	re.WriteString(regexp.QuoteMeta(tmpl[last:]))
	found := regexp.MustCompile(re.String()).FindAllIndex(data, -1)
	switch len(found) {
	case 0:
		return -1, -1, nil
	case 1:
		return found[0][0], found[0][1], nil
	}
	return -1, -1, fmt.Errorf("the block keywarden wrote is there %d times; remove the copies by hand", len(found))
}

// readFile is path's bytes, and whether it exists.
func readFile(path string) ([]byte, bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return data, true, nil
}

// check refuses a placement that cannot be made: a file of its own that
// already exists, a file that already sets the block's variables, a
// credentials profile already there.
func (p Placement) check(name string) error {
	f := formats[p.Format]
	data, exists, err := readFile(p.Path)
	if err != nil {
		return fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
	}
	if f.whole && exists {
		return fmt.Errorf("place %s:%s: the file exists; a %s placement is a file of its own", p.Format, p.Path, p.Format)
	}
	for _, line := range strings.Split(string(data), "\n") {
		for _, s := range f.sets {
			if strings.HasPrefix(strings.TrimLeft(line, " \t"), s) {
				return fmt.Errorf("place %s:%s: the file already sets %s", p.Format, p.Path, strings.TrimRight(s, " ="))
			}
		}
	}
	if p.Format == "credentials" {
		f, err := awsfile.Parse(data, awsfile.Credentials)
		if err != nil {
			return fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
		}
		if f.HasProfile(name) {
			return fmt.Errorf("place %s:%s: profile [%s] is already there", p.Format, p.Path, name)
		}
	}
	return nil
}

// planned is a placement's next content, and the mode to write it with.
type planned struct {
	p    Placement
	data []byte
	mode os.FileMode
}

// plan is p holding v's key: its block rewritten where it is, else
// appended; p's template and Created updated (to be journaled before the
// write).
func (p Placement) plan(v values) (planned, error) {
	data, exists, err := readFile(p.Path)
	if err != nil {
		return planned{}, fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
	}
	p.Created = p.Created || !exists
	if exists && !p.Created && p.Mode == 0 {
		fi, err := os.Stat(p.Path)
		if err != nil {
			return planned{}, fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
		}
		p.Mode = fi.Mode().Perm()
	}
	if p.Template != "" {
		start, end, err := find(data, p.Template)
		if err != nil {
			return planned{}, fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
		}
		if start >= 0 {
			out := append(append(append([]byte{}, data[:start]...), render(p.Template, v)...), data[end:]...)
			return planned{p: p, data: out}, nil
		}
	}
	block, err := formats[p.Format].block(data, v)
	if err != nil {
		return planned{}, fmt.Errorf("place %s:%s: %w", p.Format, p.Path, err)
	}
	p.Template = templateOf(block, v)
	if sec := v.key.Secret.Reveal(); sec != "" && strings.Contains(p.Template, sec) {
		return planned{}, fmt.Errorf("place %s:%s: the block holds the secret in a form its template cannot hide", p.Format, p.Path)
	}
	return planned{p: p, data: append(append([]byte{}, data...), block...)}, nil
}

// write writes the planned content atomically, 0600 unless told otherwise.
func (pl planned) write() error {
	if err := os.MkdirAll(filepath.Dir(pl.p.Path), 0o700); err != nil {
		return fmt.Errorf("place %s:%s: %w", pl.p.Format, pl.p.Path, err)
	}
	err := atomicfile.Write(pl.p.Path, cmp.Or(pl.mode, 0o600), func(w io.Writer) error { _, err := w.Write(pl.data); return err })
	if err != nil {
		return fmt.Errorf("place %s:%s: %w", pl.p.Format, pl.p.Path, err)
	}
	return nil
}

// remove cuts p's block out of its file, leaving every other byte; a file
// keywarden created and that holds nothing else is removed. It reports
// whether the block was there.
func (p Placement) remove() (bool, error) {
	if err := atomicfile.RemoveTemp(atomicfile.TempPath(p.Path)); err != nil {
		return false, err
	}
	data, exists, err := readFile(p.Path)
	if err != nil || !exists || p.Template == "" {
		return false, err
	}
	start, end, err := find(data, p.Template)
	if err != nil || start < 0 {
		return false, err
	}
	rest := append(append([]byte{}, data[:start]...), data[end:]...)
	if p.Created && len(rest) == 0 {
		if err := os.Remove(p.Path); err != nil {
			return false, fmt.Errorf("remove %s: %w", p.Path, err)
		}
		return true, nil
	}
	return true, planned{p: p, data: rest, mode: p.Mode}.write()
}
