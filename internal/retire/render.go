package retire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/english"
)

// Render writes a plan as text, md (one section per key) or json (the
// Plan itself: what retire apply reads).
func Render(w io.Writer, format string, p Plan) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "md", "markdown":
		return render(w, p, true)
	}
	return render(w, p, false)
}

func render(w io.Writer, p Plan, md bool) error {
	var b bytes.Buffer
	h := func(level int, s string) {
		if md {
			fmt.Fprintf(&b, "%s %s\n\n", strings.Repeat("#", level), s)
		} else {
			fmt.Fprintf(&b, "%s\n", s)
		}
	}
	block := func(s string) {
		if md {
			fmt.Fprintf(&b, "```\n%s\n```\n", strings.TrimRight(s, "\n"))
		} else {
			for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
	}
	h(1, fmt.Sprintf("Retire plan: %s, events %s to %s", english.Count(len(p.Keys), "key"), day(p.Since), day(p.Until)))
	counts := map[Class]int{}
	for _, k := range p.Keys {
		counts[k.Class]++
	}
	var parts []string
	for _, c := range []Class{ClassAWS, ClassGitHub, ClassGitLab, ClassPerson, ClassThirdParty, ClassUnused, ClassMixed, ClassUnknown} {
		if counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[c], c))
		}
	}
	fmt.Fprintf(&b, "%s\n\n", strings.Join(parts, ", "))
	for _, g := range p.Incomplete {
		fmt.Fprintf(&b, "incomplete: %s\n", g)
	}
	if len(p.Incomplete) > 0 {
		b.WriteString("\n")
	}
	for _, k := range p.Keys {
		title := fmt.Sprintf("%s (user %s): %s", k.AccessKeyID, orDash(k.User), k.Class)
		if k.Replacement.Kind != "" {
			title += " -> " + k.Replacement.Kind
			if k.Replacement.Role != "" {
				title += " " + k.Replacement.Role
			}
		}
		h(2, title)
		fmt.Fprintf(&b, "%s read", english.Count(k.Events, "event"))
		if !k.LastUsed.IsZero() {
			fmt.Fprintf(&b, ", last used %s", k.LastUsed.UTC().Format(time.RFC3339))
		}
		b.WriteString(".\n")
		for _, e := range k.Evidence {
			ex := ""
			if e.Example != "" {
				ex = " (e.g. " + e.Example + ")"
			}
			fmt.Fprintf(&b, "%s %d: %s%s\n", bullet(md), e.Events, e.Reason, ex)
		}
		if len(k.Replacement.Trust) > 0 {
			b.WriteString("\nTrust policy:\n\n")
			block(string(k.Replacement.Trust))
		}
		if s := k.Permissions; s != nil {
			var actions []string
			for _, a := range s.Actions {
				actions = append(actions, a.Action)
			}
			sort.Strings(actions)
			fmt.Fprintf(&b, "\nPermissions (policy suggest over the same events): %s: %s\n", english.Count(len(actions), "action"), orDash(strings.Join(actions, ", ")))
		}
		if k.Replacement.Instructions != "" {
			b.WriteString("\nWhat the consumer changes:\n\n")
			block(k.Replacement.Instructions)
		}
		if len(k.Notes) > 0 {
			b.WriteString("\n")
			for _, n := range k.Notes {
				fmt.Fprintf(&b, "%s note: %s\n", bullet(md), n)
			}
		}
		b.WriteString("\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

func bullet(md bool) string {
	if md {
		return "-"
	}
	return "  -"
}

func day(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
