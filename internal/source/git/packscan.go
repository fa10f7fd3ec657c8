package git

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/scan"
)

// packScan reads the object database directly: every pack's delta trees
// resolved in parallel, then the loose objects. Blobs it cannot hold or whose
// base lies outside their pack are left to cat-file (fallback).
type packScan struct {
	env      scan.Env
	hits     *blobHits
	trees    bool // decode trees to find the blobs they name that no store holds
	packs    []*packFile
	loose    []string // paths of the loose objects no pack holds
	looseIDs map[string]bool

	present map[uint64]struct{}          // leading 8 bytes of every object id, for the tree check
	onBlob  func(id string, data []byte) // tests: sees every blob instead of the detector

	mu       sync.Mutex
	fallback []string
	damaged  []string
	missing  map[[oidLen]byte]struct{}
	commits  []string // loose commits (packed ones are typed in each pack)
}

// openStore opens every pack and lists the loose objects under the object
// directories. An error means the store is beyond this reader (a layout it
// does not know) and the caller should use cat-file for everything.
func openStore(dirs []string, env scan.Env, trees bool) (*packScan, error) {
	ps := &packScan{env: env, trees: trees, hits: &blobHits{hits: map[string][]scan.Match{}},
		missing: map[[oidLen]byte]struct{}{}}
	var earlier []*packIndex
	for _, dir := range dirs {
		idxs, _ := filepath.Glob(filepath.Join(dir, "pack", "*.idx"))
		slices.Sort(idxs)
		for _, idx := range idxs {
			p, err := openPack(idx)
			if os.IsNotExist(err) {
				continue // a pack being written or removed
			}
			if err != nil {
				ps.close()
				return nil, err
			}
			p.earlier = slices.Clone(earlier)
			earlier = append(earlier, p.idx)
			ps.packs = append(ps.packs, p)
		}
	}
	ps.looseIDs = map[string]bool{}
	for _, dir := range dirs {
		for _, id := range listLoose(dir) {
			if !ps.looseIDs[id] && !ps.inPack(id) {
				ps.looseIDs[id] = true
				ps.loose = append(ps.loose, filepath.Join(dir, id[:2], id[2:]))
			}
		}
	}
	if trees {
		ps.buildPresence()
	}
	return ps, nil
}

func (ps *packScan) close() {
	for _, p := range ps.packs {
		p.close()
	}
}

// listLoose returns the ids of the loose objects in one object directory.
func listLoose(dir string) []string {
	var ids []string
	fans, _ := filepath.Glob(filepath.Join(dir, "[0-9a-f][0-9a-f]"))
	for _, fan := range fans {
		ents, _ := os.ReadDir(fan)
		for _, e := range ents {
			id := filepath.Base(fan) + e.Name()
			if len(id) == 2*oidLen && isHex(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// inPack reports whether some pack holds the (hex) id.
func (ps *packScan) inPack(id string) bool {
	b, err := hex.DecodeString(id)
	if err != nil {
		return false
	}
	for _, p := range ps.packs {
		if p.has(b) {
			return true
		}
	}
	return false
}

// has reports whether the store holds the (hex) id, packed or loose.
func (ps *packScan) has(id string) bool {
	return ps.looseIDs[id] || ps.inPack(id)
}

// buildPresence indexes every object id by its leading 64 bits: a tree
// entry whose prefix no object shares is certainly missing, and a false
// "present" needs a 64-bit collision.
func (ps *packScan) buildPresence() {
	n := len(ps.loose)
	for _, p := range ps.packs {
		n += p.idx.n
	}
	ps.present = make(map[uint64]struct{}, n)
	for _, p := range ps.packs {
		for i := range p.idx.n {
			ps.present[binary.BigEndian.Uint64(p.idx.oid(i))] = struct{}{}
		}
	}
	for _, path := range ps.loose {
		b, _ := hex.DecodeString(filepath.Base(filepath.Dir(path)) + filepath.Base(path))
		ps.present[binary.BigEndian.Uint64(b)] = struct{}{}
	}
}

// job is one delta tree of one pack.
type job struct {
	p *packFile
	r root
}

// run resolves every blob tree (and tree tree, for the missing check) of
// every pack on all cores, biggest first, then reads the loose objects.
func (ps *packScan) run(ctx context.Context) error {
	var jobs []job
	for _, p := range ps.packs {
		roots, unreachable := p.plan()
		for _, i := range unreachable { // delta cycles: walking their subtrees would never end
			if p.owned(i) {
				ps.addDamaged(hexID(p.oid(i)))
			}
		}
		for _, r := range roots {
			o := p.objs[r.i]
			switch {
			case o.typ == 0:
				ps.damagedTree(p, r.i, errDamaged)
			case o.parent == external:
				ps.fallbackTree(p, r.i)
			case r.typ == objBlob || (r.typ == objTree && ps.trees):
				jobs = append(jobs, job{p, r})
			}
		}
	}
	slices.SortFunc(jobs, func(a, b job) int { return cmpU64(b.r.weight, a.r.weight) })
	var next, nextLoose atomic.Int64
	grp, gctx := errgroup.WithContext(ctx)
	for range max(1, runtime.GOMAXPROCS(0)) {
		grp.Go(func() error {
			r := newResolver(ps)
			for {
				if err := gctx.Err(); err != nil {
					return err
				}
				k := int(next.Add(1) - 1)
				if k >= len(jobs) {
					return ps.runLoose(gctx, r, &nextLoose)
				}
				r.resolveRoot(jobs[k].p, jobs[k].r)
			}
		})
	}
	return grp.Wait()
}

// runLoose reads the loose objects, shared out through a counter.
func (ps *packScan) runLoose(ctx context.Context, r *resolver, next *atomic.Int64) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := int(next.Add(1) - 1)
		if k >= len(ps.loose) {
			return nil
		}
		path := ps.loose[k]
		id := filepath.Base(filepath.Dir(path)) + filepath.Base(path)
		comp, err := os.ReadFile(path)
		if err != nil {
			ps.addDamaged(id)
			continue
		}
		typ, data, err := r.looseObject(comp)
		r.release(0)
		switch {
		case err == errTooLarge:
			ps.addFallback(id)
		case err != nil:
			ps.addDamaged(id)
		case typ == "blob":
			ps.scanBlob(id, data)
		case typ == "tree" && ps.trees:
			ps.checkTree(data)
		case typ == "commit":
			ps.mu.Lock()
			ps.commits = append(ps.commits, id)
			ps.mu.Unlock()
		}
	}
}

// visit handles one resolved object of a pack.
func (ps *packScan) visit(p *packFile, i int32, typ uint8, data []byte) {
	switch {
	case typ == objBlob && p.owned(i):
		ps.scanBlob(hexID(p.oid(i)), data)
	case typ == objTree && ps.trees:
		ps.checkTree(data)
	}
}

// scanBlob runs the detector over one blob, as readObject does for cat-file.
func (ps *packScan) scanBlob(id string, data []byte) {
	if ps.onBlob != nil {
		ps.onBlob(id, data)
		return
	}
	if isBinary(data) {
		countSkipped(ps.env)
		return
	}
	if ms := ps.env.Detector.Find(data); len(ms) > 0 {
		ps.hits.add(id, ms)
	}
	countScanned(ps.env, int64(len(data)))
}

// fallbackTree leaves object i and its deltas to cat-file.
func (ps *packScan) fallbackTree(p *packFile, i int32) {
	p.subtree(i, func(j int32) {
		if p.owned(j) {
			ps.addFallback(hexID(p.oid(j)))
		}
	})
}

// damagedTree records object i and its deltas as unreadable.
func (ps *packScan) damagedTree(p *packFile, i int32, _ error) {
	p.subtree(i, func(j int32) {
		if p.owned(j) && (p.kind == nil || p.kind[j] == 0 || p.kind[j] == objBlob || p.kind[j] == objTree) {
			ps.addDamaged(hexID(p.oid(j)))
		}
	})
}

func (ps *packScan) addFallback(id string) {
	ps.mu.Lock()
	ps.fallback = append(ps.fallback, id)
	ps.mu.Unlock()
}

func (ps *packScan) addDamaged(id string) {
	ps.mu.Lock()
	ps.damaged = append(ps.damaged, id)
	ps.mu.Unlock()
}

// commitIDs lists every commit in the store, packed or loose.
func (ps *packScan) commitIDs() []string {
	ids := slices.Clone(ps.commits)
	for _, p := range ps.packs {
		for i, k := range p.kind {
			if k == objCommit && p.owned(int32(i)) {
				ids = append(ids, hexID(p.oid(int32(i))))
			}
		}
	}
	return ids
}

// missingIDs lists, sorted, the objects trees name that the store lacks.
func (ps *packScan) missingIDs() []string {
	ids := make([]string, 0, len(ps.missing))
	for id := range ps.missing {
		ids = append(ids, hex.EncodeToString(id[:]))
	}
	slices.Sort(ids)
	return ids
}
