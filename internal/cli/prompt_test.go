package cli

import (
	"fmt"

	"github.com/keywarden/keywarden/internal/ui"
)

// answers is a Prompter that answers as a person would, in order, and
// records what it was asked; with no answer left there is nobody at the
// terminal.
type answers struct {
	list  []string
	asked []string
}

func (a *answers) Ask(question string, hidden bool) (string, error) {
	a.asked = append(a.asked, fmt.Sprintf("%s(hidden=%v)", question, hidden))
	if len(a.list) == 0 {
		return "", ui.ErrNoTerminal
	}
	next := a.list[0]
	a.list = a.list[1:]
	return next, nil
}
