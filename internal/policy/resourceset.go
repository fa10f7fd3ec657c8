package policy

import "strings"

// resourceSet is the resources one action was used on, generalised as they
// come: once more than threshold siblings sit under a prefix, they are
// replaced by prefix/* and later ones under it are not kept. Memory then
// grows with the prefixes used, not with the objects. The result is the
// same whatever the order (collapsing is monotone; generalise computes the
// same fixpoint from the whole set).
type resourceSet struct {
	threshold int
	items     map[string]bool
	children  map[string][]string // parent -> its items, distinct
	collapsed map[string]bool     // parents granted as parent/*
}

func newResourceSet(threshold int) *resourceSet {
	return &resourceSet{threshold: threshold, items: map[string]bool{}, children: map[string][]string{}, collapsed: map[string]bool{}}
}

func (s *resourceSet) add(r string) {
	if s.items[r] || s.covered(r) {
		return
	}
	s.items[r] = true
	p, ok := parentOf(r)
	if !ok {
		return
	}
	s.children[p] = append(s.children[p], r)
	if len(s.children[p]) > s.threshold {
		s.collapse(p)
	}
}

// covered reports whether an ancestor of r was collapsed.
func (s *resourceSet) covered(r string) bool {
	for p, ok := parentOf(r); ok; p, ok = parentOf(p) {
		if s.collapsed[p] && r != p+"/*" {
			return true
		}
	}
	return false
}

// collapse replaces p's children (and what is under them) by p/*.
func (s *resourceSet) collapse(p string) {
	s.collapsed[p] = true
	s.drop(p)
	s.add(p + "/*")
}

func (s *resourceSet) drop(p string) {
	for _, c := range s.children[p] {
		delete(s.items, c)
		if q, ok := strings.CutSuffix(c, "/*"); ok {
			s.drop(q)
		}
	}
	delete(s.children, p)
}

// list is the set, generalised to its fixpoint.
func (s *resourceSet) list() []string {
	rs := make([]string, 0, len(s.items))
	for r := range s.items {
		rs = append(rs, r)
	}
	return generalise(rs, s.threshold)
}
