package cli

import "slices"

// What follows served scan's and audit's own flag parsing, which the shared
// typed flags (flags.go) replaced; other verbs still call it. Delete the
// file once none does.

func contains(list []string, s string) bool { return slices.Contains(list, s) }
