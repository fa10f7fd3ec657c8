package dotgit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// packStore reads objects out of the packs fetched from the site. The packs
// are written into a temporary bare repository and read with one long-lived
// `git cat-file --batch-command`: git already resolves deltas correctly and
// fast, and a corrupt pack only makes it report errors for that object.
type packStore struct {
	dir   string
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	packs int
	dead  bool // git failed mid-answer: the protocol is out of step, stop asking
}

// newPackStore creates the temporary repository. Call close when done.
func newPackStore(ctx context.Context) (*packStore, error) {
	dir, err := os.MkdirTemp("", "keywarden-dotgit-")
	if err != nil {
		return nil, fmt.Errorf("create temporary repository: %w", err)
	}
	s := &packStore{dir: dir}
	if out, err := s.git(ctx, "init", "--quiet", "--bare", dir).CombinedOutput(); err != nil {
		s.close()
		return nil, fmt.Errorf("git init %s: %w: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return s, nil
}

func (s *packStore) git(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "git", args...)
	// The site's config never reaches git: only our own empty repository is
	// read, with no system or user config (a path that does not exist).
	noConfig := filepath.Join(s.dir, "no-global-config")
	cmd.Stdin = strings.NewReader("") // not os.DevNull: git must read nothing, whatever the machine's /dev/null is
	cmd.Env = append(os.Environ(), "GIT_DIR="+s.dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+noConfig, "GIT_TERMINAL_PROMPT=0")
	return cmd
}

// addPack stores one fetched pack and its index under objects/pack.
func (s *packStore) addPack(name string, idx, pack []byte) error {
	base := filepath.Join(s.dir, "objects", "pack", name)
	if err := os.WriteFile(base+".idx", idx, 0o600); err != nil {
		return fmt.Errorf("store %s.idx: %w", name, err)
	}
	if err := os.WriteFile(base+".pack", pack, 0o600); err != nil {
		return fmt.Errorf("store %s.pack: %w", name, err)
	}
	s.packs++
	return nil
}

// start launches cat-file once every pack is in place.
func (s *packStore) start(ctx context.Context) error {
	if s.packs == 0 {
		return nil
	}
	cmd := s.git(ctx, "cat-file", "--batch-command")
	cmd.Stdin = nil // replaced by the pipe commands are written to
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start git cat-file: %w", err)
	}
	s.cmd, s.in, s.out = cmd, in, bufio.NewReaderSize(out, 64<<10)
	return nil
}

// listObjects returns the id and type of every object in the packs (none for a nil store), so that
// blobs no commit reaches any more are scanned too.
func (s *packStore) listObjects(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	if s == nil || s.packs == 0 {
		return out, nil
	}
	cmd := s.git(ctx, "cat-file", "--batch-all-objects", "--batch-check=%(objectname) %(objecttype)", "--unordered")
	b, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("list packed objects: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if id, typ, ok := strings.Cut(line, " "); ok && isObjectID(id) {
			out[id] = typ
		}
	}
	return out, nil
}

// get returns a packed object, or ok=false when the packs do not hold it. An
// object larger than maxSize is not read (err says so).
func (s *packStore) get(id string, maxSize int64) (obj object, ok bool, err error) {
	if s == nil || s.cmd == nil || s.dead || !isObjectID(id) {
		return object{}, false, nil
	}
	typ, size, ok, err := s.request("info " + id)
	if err != nil || !ok {
		return object{}, false, err
	}
	if size > maxSize {
		return object{}, false, fmt.Errorf("object %s: size %d exceeds the per-object bound of %d bytes", id, size, maxSize)
	}
	typ, size, ok, err = s.request("contents " + id)
	if err != nil || !ok {
		return object{}, false, err
	}
	if size > maxSize {
		return object{}, false, fmt.Errorf("object %s changed size while read", id)
	}
	data := make([]byte, size+1) // content and the newline after it
	if _, err := io.ReadFull(s.out, data); err != nil {
		s.dead = true
		return object{}, false, fmt.Errorf("read object %s from git: %w", id, err)
	}
	return object{typ: typ, data: data[:size]}, true, nil
}

// request sends one command and reads the "<id> <type> <size>" or
// "<id> missing" line that answers it.
func (s *packStore) request(cmd string) (typ string, size int64, ok bool, err error) {
	if _, err := io.WriteString(s.in, cmd+"\n"); err != nil {
		s.dead = true
		return "", 0, false, fmt.Errorf("git cat-file: %w", err)
	}
	line, err := s.out.ReadString('\n')
	if err != nil {
		s.dead = true
		return "", 0, false, fmt.Errorf("git cat-file: %w", err)
	}
	f := strings.Fields(line)
	if len(f) != 3 {
		return "", 0, false, nil // missing, ambiguous, or an error git reported
	}
	size, err = strconv.ParseInt(f[2], 10, 64)
	if err != nil || size < 0 {
		s.dead = true
		return "", 0, false, fmt.Errorf("git cat-file: bad answer %q", strings.TrimSpace(line))
	}
	return f[1], size, true, nil
}

// close stops git and removes the temporary repository.
func (s *packStore) close() {
	if s == nil {
		return
	}
	if s.cmd != nil {
		s.in.Close()
		_ = s.cmd.Wait()
	}
	os.RemoveAll(s.dir)
}
