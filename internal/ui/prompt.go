package ui

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/term"
)

// ErrNoTerminal is returned when a question needs a person and there is no
// terminal to ask on (cron, CI, a credential_process run by the SDK).
var ErrNoTerminal = errors.New("no terminal to ask on")

// Ask asks question on the controlling terminal (/dev/tty), not on stdin
// or stdout: those may carry data (credential_process's JSON) or be pipes.
// With hidden, what is typed is not echoed (passphrases, MFA codes).
func Ask(question string, hidden bool) (string, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", fmt.Errorf("%s: %w", strings.TrimSuffix(question, ": "), ErrNoTerminal)
	}
	defer tty.Close()
	fmt.Fprint(tty, question)
	if hidden {
		b, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		if err != nil {
			return "", fmt.Errorf("read answer: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("read answer: %w", err)
	}
	return strings.TrimSpace(line), nil
}
