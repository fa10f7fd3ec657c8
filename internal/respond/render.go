package respond

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/keywarden/keywarden/internal/english"
	"github.com/keywarden/keywarden/internal/report"
)

// Render writes rep as text/markdown (the same: markdown reads well in a
// terminal), html (the markdown, rendered, in one self-contained page) or
// json.
func Render(w io.Writer, format string, rep *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "html":
		return renderHTML(w, rep)
	}
	_, err := io.WriteString(w, Markdown(rep))
	return err
}

// Markdown is the report for people: what happened, what was done, what is left to clean up.
func Markdown(rep *Report) string {
	var b strings.Builder
	title := "Exposed key " + rep.KeyID
	if rep.Incident != "" {
		title = "Incident " + rep.Incident + ": exposed key " + rep.KeyID
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	writeIdentity(&b, rep)
	writeSteps(&b, rep.Steps)
	writeContainment(&b, rep)
	if rep.Review != nil {
		writeReview(&b, rep.Review)
	}
	if len(rep.Journal) > 0 {
		b.WriteString("## Journal\n\n")
		for _, e := range rep.Journal {
			fmt.Fprintf(&b, "- %s `%s` %s\n", e.At.UTC().Format(time.RFC3339), e.Step, e.Message)
		}
		b.WriteString("\n")
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(&b, "> warning: %s\n", w)
	}
	return b.String()
}

func writeIdentity(b *strings.Builder, rep *Report) {
	fmt.Fprintf(b, "- account: %s\n", orDash(rep.AccountID))
	if rep.MintedBy != "" {
		fmt.Fprintf(b, "- a temporary key minted by %s (that key is the one contained)\n", rep.MintedBy)
	}
	if o := rep.Owner; o != nil {
		fmt.Fprintf(b, "- owner: user %s; key %s when identified, created %s, last used %s", o.User, o.Status, day(o.Created), day(o.LastUsed))
		if o.LastUsedService != "" {
			fmt.Fprintf(b, " (%s, %s)", o.LastUsedService, o.LastUsedRegion)
		}
		b.WriteString("\n")
	}
	if r := rep.Rights; r != nil {
		fmt.Fprintf(b, "- administrator: %v", r.Admin)
		if len(r.Dangerous) > 0 {
			fmt.Fprintf(b, "; dangerous rights: %s", strings.Join(r.Dangerous, ", "))
		}
		if len(r.Groups) > 0 {
			fmt.Fprintf(b, "; groups: %s", strings.Join(r.Groups, ", "))
		}
		if r.Boundary != "" {
			fmt.Fprintf(b, "; boundary: %s", r.Boundary)
		}
		b.WriteString("\n")
		if len(r.Unknown) > 0 {
			fmt.Fprintf(b, "- rights not known (what is above is a lower bound): %s\n", strings.Join(r.Unknown, "; "))
		}
		if len(r.AssumableRoles) > 0 {
			fmt.Fprintf(b, "- roles it may assume: %s\n", strings.Join(r.AssumableRoles, ", "))
		}
	}
	if rep.Replacement != "" {
		fmt.Fprintf(b, "- replaced by key %s\n", rep.Replacement)
	}
	b.WriteString("\n")
}

// writeSteps says per step what it checked, applied or could not do.
func writeSteps(b *strings.Builder, steps []Step) {
	if len(steps) == 0 {
		return
	}
	b.WriteString("## Steps\n\n| step | status | what |\n|---|---|---|\n")
	for _, s := range steps {
		fmt.Fprintf(b, "| %s | %s | %s |\n", s.Name, s.Status, cell(s.Detail))
	}
	b.WriteString("\n")
}

// cell keeps text inside one markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func writeContainment(b *strings.Builder, rep *Report) {
	switch {
	case rep.Applied:
		b.WriteString("## Containment (applied)\n\n")
	case rep.Incident != "":
		fmt.Fprintf(b, "## Containment (stopped by a failure: 'keywarden respond undo %s' reverses what was made)\n\n", rep.Incident)
	case len(rep.Actions) == 0:
		b.WriteString("## Containment\n\n")
	default:
		b.WriteString("## Containment plan (nothing changed: run again with --apply)\n\n")
	}
	if len(rep.Actions) == 0 {
		why := "nothing planned"
		if s, ok := stepOf(rep.Steps, "contain"); ok && s.Detail != "" {
			why = s.Detail
		}
		fmt.Fprintf(b, "%s.\n\n", strings.ToUpper(why[:1])+why[1:])
		return
	}
	stopped := rep.Incident != "" && !rep.Applied
	b.WriteString("| action | status | command |\n|---|---|---|\n")
	for _, a := range rep.Actions {
		status := "planned"
		switch {
		case a.Skipped != "":
			status = "not needed: " + a.Skipped
		case a.Applied:
			status = "done " + a.At.UTC().Format(time.RFC3339)
		case a.Error != "":
			status = "failed (it may have been made: undo reverses it): " + cell(a.Error)
		case stopped:
			status = "not tried"
		}
		fmt.Fprintf(b, "| %s | %s | `%s` |\n", a.Kind, status, a.Command())
	}
	b.WriteString("\n")
}

// stepOf finds the step called name.
func stepOf(steps []Step, name string) (Step, bool) {
	for _, s := range steps {
		if s.Name == name {
			return s, true
		}
	}
	return Step{}, false
}

func writeReview(b *strings.Builder, rv *Review) {
	s := rv.Summary
	fmt.Fprintf(b, "## Review since %s\n\n", rv.Since.Format(time.RFC3339))
	if rv.Read != nil {
		fmt.Fprintf(b, "Read: %s.\n\n", readList(rv.Read))
	}
	if len(rv.Incomplete) > 0 {
		fmt.Fprintf(b, "The review is incomplete: not read: %s.\n\n", gapList(rv.Incomplete))
	}
	if rv.Events == 0 {
		if len(rv.Incomplete) > 0 {
			b.WriteString("What was read holds no event of the key; what was not read may.\n\n")
		} else {
			b.WriteString("No event of the key in the window.\n\n")
		}
		return
	}
	fmt.Fprintf(b, "%s, %d with errors; exposure window %s → %s.\n\n", english.Count(rv.Events, "event"), s.Errors,
		s.First.UTC().Format(time.RFC3339), s.Last.UTC().Format(time.RFC3339))
	for _, m := range rv.Minted {
		fmt.Fprintf(b, "- minted temporary key %s with %s at %s\n", m.KeyID, m.By, m.At.UTC().Format(time.RFC3339))
	}
	for _, c := range []struct {
		name   string
		counts []Count
	}{{"services", s.Services}, {"actions", s.Actions}, {"regions", s.Regions}, {"source IPs", s.SourceIPs},
		{"user agents", s.UserAgents}, {"errors", s.ErrorCodes}} {
		if len(c.counts) == 0 {
			continue
		}
		parts := make([]string, 0, len(c.counts))
		for _, x := range c.counts {
			parts = append(parts, fmt.Sprintf("%s (%d)", x.Value, x.Count))
		}
		fmt.Fprintf(b, "- %s: %s\n", c.name, strings.Join(parts, ", "))
	}
	b.WriteString("\n")
	writeFlags(b, rv.Flags)
	writeCreated(b, rv.Created)
	if len(rv.Timeline) > 0 {
		b.WriteString("### Timeline\n\n")
		for _, t := range rv.Timeline {
			fmt.Fprintf(b, "- %s %s\n", t.At.UTC().Format(time.RFC3339), t.What)
		}
		b.WriteString("\n")
	}
}

func writeFlags(b *strings.Builder, flags []Flag) {
	if len(flags) == 0 {
		return
	}
	b.WriteString("### Red flags\n\n| severity | rule | what | event |\n|---|---|---|---|\n")
	for _, f := range flags {
		fmt.Fprintf(b, "| %s | %s | %s | %s %s |\n", f.Severity, f.Rule, f.Title, f.Event.Name, f.Event.At.UTC().Format(time.RFC3339))
	}
	b.WriteString("\n")
}

func writeCreated(b *strings.Builder, created []CreatedResource) {
	if len(created) == 0 {
		return
	}
	b.WriteString("### Created by the key: cleanup checklist\n\n")
	for _, c := range created {
		fmt.Fprintf(b, "- [ ] %s `%s`", c.Kind, c.ID)
		if c.Region != "" {
			fmt.Fprintf(b, " in %s", c.Region)
		}
		fmt.Fprintf(b, " (%s at %s by %s)\n", c.Call, c.At.UTC().Format(time.RFC3339), c.By)
		for _, cmd := range c.Cleanup {
			fmt.Fprintf(b, "  - `%s`\n", cmd)
		}
		if c.Note != "" {
			fmt.Fprintf(b, "  - %s\n", c.Note)
		}
	}
	b.WriteString("\n")
}

func day(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// plural counts n of noun: "1 event", "3 events".
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{{.Title}}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse}td,th{border:1px solid #8884;padding:.2rem .5rem;text-align:left;vertical-align:top}
code{font-size:90%}.id{white-space:nowrap}@media(prefers-color-scheme:dark){body{background:#111;color:#ddd}}</style>
</head><body>{{.Body}}</body></html>
`))

// renderHTML renders the markdown report into one self-contained page. The
// markdown's raw HTML is not passed through (goldmark's default), so names
// from CloudTrail (a user called <script>) stay text; key ids and ARNs are
// kept whole on one line (report.KeepIDsWhole).
func renderHTML(w io.Writer, rep *Report) error {
	var body bytes.Buffer
	md := goldmark.New(goldmark.WithExtensions(extension.GFM)) // tables and task lists
	if err := md.Convert([]byte(Markdown(rep)), &body); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return page.Execute(w, struct {
		Title string
		Body  template.HTML
	}{"keywarden respond: " + rep.KeyID, template.HTML(report.KeepIDsWhole(body.Bytes()))})
}
