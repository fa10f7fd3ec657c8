package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keywarden/keywarden/internal/ui"
)

// Prompter asks the person at the terminal. Without a terminal (cron, CI, a
// credential_process run by an SDK) Ask fails with ui.ErrNoTerminal, so no
// verb ever waits on input nobody will give.
type Prompter interface {
	// Ask prints question and returns the answer, trimmed; with hidden, what
	// is typed is not echoed (MFA codes, passphrases).
	Ask(question string, hidden bool) (string, error)
}

// ttyPrompter asks on the controlling terminal, never on stdin or stdout:
// those may carry data (credential_process's JSON, a log on stdin) or be
// pipes.
type ttyPrompter struct{}

func (ttyPrompter) Ask(question string, hidden bool) (string, error) { return ui.Ask(question, hidden) }

// confirm asks a yes/no question; yes (--yes) answers it unasked. With
// nobody to ask the answer is no, and stderr says why and how to agree.
func (d Deps) confirm(yes bool, question string) bool {
	if yes {
		fmt.Fprintf(d.Stderr, "%s yes (--yes)\n", question)
		return true
	}
	answer, err := d.Prompter.Ask(question+" [y/N] ", false)
	switch {
	case errors.Is(err, ui.ErrNoTerminal):
		fmt.Fprintf(d.Stderr, "%s no (no terminal to ask on: pass --yes to agree)\n", question)
		return false
	case err != nil:
		fmt.Fprintf(d.Stderr, "%s no (%v)\n", question, err)
		return false
	}
	answer = strings.ToLower(answer)
	return answer == "y" || answer == "yes"
}
