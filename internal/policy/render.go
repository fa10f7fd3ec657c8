package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Render writes a suggestion as text or JSON (the Suggestion itself, what
// policy apply reads).
func Render(w io.Writer, format string, s Suggestion) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	return renderText(w, s)
}

func renderText(w io.Writer, s Suggestion) error {
	var b bytes.Buffer
	who := s.Principal.Type + " " + s.Principal.Name
	if s.Principal.Name == "" {
		who = "key " + s.Principal.KeyID
	} else if s.Principal.KeyID != "" {
		who += " (key " + s.Principal.KeyID + ")"
	}
	fmt.Fprintf(&b, "Suggested policy for %s: %d events read", who, s.Events)
	if !s.Since.IsZero() {
		fmt.Fprintf(&b, " since %s", s.Since.Format(time.RFC3339))
	}
	fmt.Fprintf(&b, ".\n%d actions granted, %.0f%% of statements scoped to named resources, %d characters.\n\n",
		len(s.Actions), 100*s.Scoped, len(s.Policy))
	var doc bytes.Buffer
	if err := json.Indent(&doc, s.Policy, "", "  "); err != nil {
		return err
	}
	b.Write(doc.Bytes())
	b.WriteString("\n")
	if len(s.Sessions) > 0 {
		fmt.Fprintf(&b, "\nSessions followed (minted from the key): %s\n", strings.Join(s.Sessions, ", "))
	}
	section(&b, "Actions used", len(s.Actions), func(tw io.Writer) {
		fmt.Fprintln(tw, "ACTION\tCALLS\tFIRST SEEN\tLAST SEEN\tNOTE")
		for _, a := range s.Actions {
			note := ""
			switch {
			case a.Needed != "":
				note = "needed by " + a.Needed
			case a.Guessed:
				note = "unmapped: named after the event"
			case a.Source == SourceAccessAdvisor:
				note = "from Access Advisor (service level, every resource)"
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", a.Action, a.Count, stamp(a.FirstSeen), stamp(a.LastSeen), note)
		}
	})
	section(&b, "Denied calls (not granted)", len(s.Denied), func(tw io.Writer) {
		fmt.Fprintln(tw, "ACTION\tDENIED\tFIRST SEEN\tLAST SEEN\tRESOURCES")
		for _, a := range s.Denied {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", a.Action, a.Denied, stamp(a.FirstSeen), stamp(a.LastSeen), strings.Join(a.Resources, " "))
		}
	})
	section(&b, "Unmapped events (granted as named: check them)", len(s.Unmapped), func(tw io.Writer) {
		fmt.Fprintln(tw, "EVENT SOURCE\tEVENT NAME\tCALLS")
		for _, u := range s.Unmapped {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", u.EventSource, u.EventName, u.Count)
		}
	})
	section(&b, "Granted now and never used", len(s.Unused), func(tw io.Writer) {
		fmt.Fprintln(tw, "RIGHT\tUNUSED\tUSED\tDANGEROUS CLASS")
		for _, u := range s.Unused {
			if u.Class != "" {
				fmt.Fprintf(tw, "%s\t\t\t%s on %s\n", u.Action, u.Class, u.Resource)
			} else {
				fmt.Fprintf(tw, "%s\t%d\t%d\t\n", u.Action, u.Count, u.Used)
			}
		}
	})
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "\nNote: %s\n", n)
	}
	section(&b, "Incomplete (a call made there is unknown, and this policy may deny it)", len(s.Incomplete), func(tw io.Writer) {
		for _, g := range s.Incomplete {
			fmt.Fprintf(tw, "%s\t%s\n", g.Source, g.Reason)
		}
	})
	_, err := w.Write(b.Bytes())
	return err
}

func section(b *bytes.Buffer, title string, n int, rows func(io.Writer)) {
	if n == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n", title)
	tw := tabwriter.NewWriter(b, 2, 4, 2, ' ', 0)
	rows(tw)
	tw.Flush()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04") }
