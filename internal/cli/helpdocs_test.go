package cli

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// docPages maps each doc page to the commands it covers (their paths
// without "keywarden"; a command covers its subcommands unless they are
// listed elsewhere).
var docPages = map[string][]string{
	"scan.md":         {"scan", "hook"},
	"audit.md":        {"audit"},
	"canary.md":       {"canary"},
	"rotate.md":       {"rotate"},
	"creds.md":        {"creds", "exec"},
	"respond.md":      {"respond"},
	"watch.md":        {"watch", "lambda"},
	"policy.md":       {"policy"},
	"drill.md":        {"drill"},
	"retire.md":       {"retire plan"},
	"retire-apply.md": {"retire apply", "retire finish", "retire undo", "retire list", "retire schedule"},
}

// helpFlag is a flag line of cobra's help: "  -f, --format format   ...".
var helpFlag = regexp.MustCompile(`(?m)^\s+(?:-\w, )?--([a-z][a-z0-9-]*)`)

// docFlag is a flag a page names: --name, not part of a longer word.
var docFlag = regexp.MustCompile(`(?:^|[^\w-])--([a-z][a-z0-9-]*)`)

// program is a command a page quotes: another tool, or a keywarden verb.
var program = regexp.MustCompile(`\b(?:aws|kubectl|git|docker|jq|gh|systemctl|crontab)\s|\bkeywarden ([a-z]+)`)

// docFlags returns the flags page names for its own commands (verbs), and
// those it names in a quoted command of another keywarden verb (by verb). A
// flag in a code span or a code block line belongs to the last program
// quoted before it there; in prose, to the page.
func docFlags(page string, verbs []string) (own map[string]bool, others map[string]map[string]bool) {
	own, others = map[string]bool{}, map[string]map[string]bool{}
	inBlock := false
	for _, line := range strings.Split(page, "\n") {
		if strings.HasPrefix(line, "```") {
			inBlock = !inBlock
			continue
		}
		spans := strings.Split(line, "`")
		for i, span := range spans {
			code := inBlock || i%2 == 1
			for _, m := range docFlag.FindAllStringSubmatchIndex(span, -1) {
				flag := span[m[2]:m[3]]
				owner := ""
				if code {
					for _, p := range program.FindAllStringSubmatchIndex(span[:m[2]], -1) {
						owner = "tool"
						if p[2] >= 0 {
							owner = span[p[2]:p[3]]
						}
					}
				}
				switch {
				case owner == "tool":
				case owner == "" || slices.Contains(verbs, owner):
					own[flag] = true
				default:
					if others[owner] == nil {
						others[owner] = map[string]bool{}
					}
					others[owner][flag] = true
				}
			}
		}
	}
	return own, others
}

// helpFlags runs 'keywarden help PATH' for the command at path and every
// command under it, and returns each flag the helps list, with the first
// command listing it.
func helpFlags(t *testing.T, path []string) map[string]string {
	t.Helper()
	cmd, _, err := NewRootCmd(Deps{}).Find(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		p := strings.Fields(c.CommandPath())[1:]
		stdout, stderr, code := runMain(t, append([]string{"help"}, p...)...)
		if code != ExitOK {
			t.Fatalf("keywarden help %s: exit %d: %s", strings.Join(p, " "), code, stderr)
		}
		for _, m := range helpFlag.FindAllStringSubmatch(stdout, -1) {
			if _, ok := out[m[1]]; !ok && m[1] != "help" {
				out[m[1]] = c.CommandPath()
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(cmd)
	return out
}

// TestHelpAndDocsNameTheSameFlags: every flag 'keywarden help' lists for a
// command is named on its page of docs/, and a page names no flag its
// commands lack (a flag quoted with another verb must be that verb's; with
// another tool, it is that tool's).
func TestHelpAndDocsNameTheSameFlags(t *testing.T) {
	flagsOf := map[string]map[string]string{}
	verbFlags := func(verb string) map[string]string {
		if flagsOf[verb] == nil {
			flagsOf[verb] = helpFlags(t, []string{verb})
		}
		return flagsOf[verb]
	}
	for page, cmds := range docPages {
		data, err := os.ReadFile("../../docs/" + page)
		if err != nil {
			t.Fatal(err)
		}
		own, others := docFlags(string(data), cmds)
		helped := map[string]string{}
		for _, c := range cmds {
			for f, by := range helpFlags(t, strings.Fields(c)) {
				helped[f] = by
			}
		}
		var missing, extra []string
		for f, by := range helped {
			if !own[f] && !others[strings.Fields(by)[1]][f] {
				missing = append(missing, "--"+f+" ("+by+")")
			}
		}
		for f := range own {
			if _, ok := helped[f]; !ok {
				extra = append(extra, "--"+f)
			}
		}
		for verb, flags := range others {
			for f := range flags {
				if _, ok := verbFlags(verb)[f]; !ok {
					extra = append(extra, "--"+f+" (of keywarden "+verb+")")
				}
			}
		}
		slices.Sort(missing)
		slices.Sort(extra)
		if len(missing) > 0 {
			t.Errorf("docs/%s does not name %s", page, strings.Join(missing, ", "))
		}
		if len(extra) > 0 {
			t.Errorf("docs/%s names flags its commands lack: %s", page, strings.Join(extra, ", "))
		}
	}
}

func TestDocFlagsTellWhoseFlagItIs(t *testing.T) {
	own, others := docFlags("use `--since 24h`, as `keywarden respond --apply` does; see `aws iam x --user-name u`\n"+
		"```\nkeywarden watch --follow\ngit log --all\n```\nprose --dedup", []string{"watch"})
	if !own["since"] || !own["follow"] || !own["dedup"] || own["apply"] || own["user-name"] || own["all"] || !others["respond"]["apply"] {
		t.Errorf("own %v, others %v", own, others)
	}
}
