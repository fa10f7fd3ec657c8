package drill

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// PlanFormats are the formats WritePlan writes, the default first.
var PlanFormats = []string{"md", "html", "json"}

// WritePlan writes p to w in format (one of PlanFormats). The plan holds
// key ids, never a secret; html escapes every value (html/template).
func WritePlan(w io.Writer, format string, p Plan) error {
	switch format {
	case "md":
		_, err := io.WriteString(w, p.Markdown())
		return err
	case "html":
		return planPage.Execute(w, planDoc{Title: "Incident-response plan: account " + p.AccountID, Plans: []Plan{p}})
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	}
	return fmt.Errorf("plan format %q: want one of %s", format, strings.Join(PlanFormats, ", "))
}

// WritePlans writes the plans of an organization's accounts (NewPlans):
// md one after the other, json an array, html one page with a part per
// account.
func WritePlans(w io.Writer, format string, plans []Plan) error {
	switch format {
	case "md":
		for i, p := range plans {
			if i > 0 {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			if _, err := io.WriteString(w, p.Markdown()); err != nil {
				return err
			}
		}
		return nil
	case "html":
		return planPage.Execute(w, planDoc{Title: fmt.Sprintf("Incident-response plans: %d accounts", len(plans)), Plans: plans, Org: true})
	case "json":
		if plans == nil {
			plans = []Plan{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(plans)
	}
	return fmt.Errorf("plan format %q: want one of %s", format, strings.Join(PlanFormats, ", "))
}

// planDoc is the html page: one plan, or an organization's (Org: each
// account's part in an article of its own).
type planDoc struct {
	Title string
	Plans []Plan
	Org   bool
}

// Markdown is the plan as a markdown document.
func (p Plan) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Incident-response plan: account %s\n\nWritten %s by keywarden drill plan.\n\n",
		orUnknown(p.AccountID), p.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	if len(p.Incomplete) > 0 {
		b.WriteString("**Incomplete**: this plan could not read all of the account; a key or a trail there is unknown, not absent.\n\n")
		for _, g := range p.Incomplete {
			fmt.Fprintf(&b, "- %s: %s\n", g.Source, g.Reason)
		}
		b.WriteString("\n")
	}
	b.WriteString("## Who gets the alerts\n\n")
	if len(p.Sinks) == 0 {
		b.WriteString("No sink configured.\n\n")
	}
	for _, s := range p.Sinks {
		fmt.Fprintf(&b, "- %s: %s\n", s.Kind, s.Target)
	}
	if len(p.Sinks) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("## High-blast-radius keys\n\n")
	if len(p.Keys) == 0 {
		b.WriteString("No key is held by an administrator or by a holder of dangerous rights.\n\n")
	} else {
		b.WriteString("| # | Key | User | Owner | Why | Age (days) | Last used |\n|---|---|---|---|---|---|---|\n")
		for i, k := range p.Keys {
			fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s (%s) | %s | %s |\n", i+1, k.KeyID, cell(k.User), cell(k.Owner),
				cell(k.Why), k.Severity, ageText(k.AgeDays), k.LastUsed)
		}
		b.WriteString("\n")
	}
	for i, k := range p.Keys {
		fmt.Fprintf(&b, "### %d. %s (%s)\n\nOwner: %s. Rights: %s.\n\n", i+1, k.KeyID, k.User, k.Owner, rights(k))
		for j, s := range k.Steps {
			fmt.Fprintf(&b, "%d. **%s**: %s\n", j+1, s.Name, s.Note)
			if s.Command != "" {
				fmt.Fprintf(&b, "\n   ```sh\n   %s\n   ```\n", s.Command)
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("## Not yet covered\n\n")
	if len(p.Uncovered) == 0 {
		b.WriteString("Nothing.\n")
	}
	for _, u := range p.Uncovered {
		fmt.Fprintf(&b, "- %s. Fix: %s\n", u.What, u.Fix)
	}
	return b.String()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// cell keeps a value from breaking its table row.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

func ageText(days int) string {
	if days < 0 {
		return "unknown"
	}
	return fmt.Sprint(days)
}

func rights(k KeyPlan) string {
	switch {
	case k.Admin:
		return "administrator"
	case len(k.Dangerous) > 0:
		return strings.Join(k.Dangerous, ", ")
	}
	return "unknown"
}

//go:embed plan.html.tmpl
var planTemplate string

var planPage = template.Must(template.New("plan").Funcs(template.FuncMap{
	"age": ageText, "rights": rights, "inc": func(i int) int { return i + 1 },
}).Parse(planTemplate))
