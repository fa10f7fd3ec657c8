package dotgit

import (
	"bytes"
	"context"
	"errors"
	"strings"
)

// Without a directory listing, refs can only be found by name: the files
// below, the refs they name, and the branch names people commonly use.
var (
	refTextFiles = []string{"packed-refs", "info/refs", "ORIG_HEAD", "FETCH_HEAD", "logs/HEAD", "refs/stash", "logs/refs/stash"}
	commonRefs   = []string{
		"refs/heads/master", "refs/heads/main", "refs/heads/develop", "refs/heads/dev",
		"refs/heads/production", "refs/heads/staging", "refs/remotes/origin/HEAD",
		"refs/remotes/origin/master", "refs/remotes/origin/main",
	}
)

// maxRefs bounds how many ref names the discovery follows.
const maxRefs = 200

// zeroID is the id reflogs use for "no commit".
const zeroID = "0000000000000000000000000000000000000000"

// refScan collects start points for the object walk from the text files of
// a .git directory.
type refScan struct {
	ids     []string        // commit (or tag) ids, in discovery order
	seenID  map[string]bool // ids already in ids
	refs    []string        // ref paths to fetch ("refs/heads/x")
	seenRef map[string]bool
	refIDs  map[string]string // ref name -> id, from packed-refs and info/refs
	head    string            // the id HEAD resolves to, when known
}

func newRefScan() *refScan {
	return &refScan{seenID: map[string]bool{zeroID: true}, seenRef: map[string]bool{}, refIDs: map[string]string{}}
}

func (r *refScan) addID(id string) {
	if isObjectID(id) && !r.seenID[id] {
		r.seenID[id] = true
		r.ids = append(r.ids, id)
	}
}

func (r *refScan) addRef(ref string) {
	ref = strings.TrimSpace(ref)
	if !strings.HasPrefix(ref, "refs/") || strings.Contains(ref, "..") || r.seenRef[ref] || len(r.seenRef) >= maxRefs {
		return
	}
	r.seenRef[ref] = true
	r.refs = append(r.refs, ref, "logs/"+ref)
}

// parseText takes every object id and ref name out of a ref-bearing file:
// loose refs, packed-refs, info/refs, FETCH_HEAD and reflogs all put them in
// whitespace-separated fields; reflogs also name branches in checkout lines.
func (r *refScan) parseText(b []byte) {
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && isObjectID(f[0]) && strings.HasPrefix(f[1], "refs/") {
			r.refIDs[f[1]] = f[0]
		}
		for _, field := range strings.Fields(line) {
			field = strings.TrimPrefix(field, "^")
			if isObjectID(field) {
				r.addID(field)
			} else if strings.HasPrefix(field, "refs/") {
				r.addRef(field)
			}
		}
		if _, msg, ok := strings.Cut(line, "\tcheckout: moving from "); ok {
			from, to, _ := strings.Cut(msg, " to ")
			for _, name := range []string{from, to} {
				if name != "" && !isObjectID(name) {
					r.addRef("refs/heads/" + name)
				}
			}
		}
	}
}

// isRefText reports whether a body can be a ref-bearing file rather than a
// page: plain text that holds at least one object id or ref name.
func isRefText(b []byte) bool {
	if looksHTML(b) || bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	for _, f := range strings.Fields(string(b)) {
		if isObjectID(strings.TrimPrefix(f, "^")) || strings.HasPrefix(f, "refs/") {
			return true
		}
	}
	return false
}

// parseHEAD checks the shape of .git/HEAD: "ref: refs/..." or a bare id.
func parseHEAD(b []byte) (ref, id string, ok bool) {
	s := strings.TrimSpace(string(b))
	if name, found := strings.CutPrefix(s, "ref: "); found {
		name = strings.TrimSpace(name)
		return name, "", strings.HasPrefix(name, "refs/") && !strings.ContainsAny(name, " \t\n<>")
	}
	return "", s, isObjectID(s)
}

// discoverRefs fetches the ref files and returns the start points. HEAD's
// body was already fetched by the caller (it decides whether .git is exposed).
func discoverRefs(ctx context.Context, f *fetcher, head []byte) (*refScan, error) {
	r := newRefScan()
	headRef, id, ok := parseHEAD(head)
	if ok {
		r.addRef(headRef)
		r.addID(id)
		r.head = id
	}
	for _, ref := range commonRefs {
		r.addRef(ref)
	}
	queue := append(append([]string(nil), refTextFiles...), r.refs...)
	for i := 0; i < len(queue); i++ {
		p := queue[i]
		body, err := f.get(ctx, ".git/"+p, 8<<20)
		if errors.Is(err, errBound) {
			return r, err
		}
		if err != nil || !isRefText(body) {
			continue
		}
		before := len(r.refs)
		r.parseText(body)
		queue = append(queue, r.refs[before:]...)
		if p == headRef && r.head == "" {
			r.head = strings.TrimSpace(string(body))
			if !isObjectID(r.head) {
				r.head = ""
			}
		}
	}
	if r.head == "" {
		r.head = r.refIDs[headRef]
	}
	return r, nil
}
