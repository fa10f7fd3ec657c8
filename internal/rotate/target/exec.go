package target

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// execOutputLimit is how much of the command's output is kept (the end of it).
const execOutputLimit = 64 << 10

// execWaitDelay bounds the wait for the output pipes after the command exits
// or is cancelled: a background child that keeps them open must not hang rotate.
const execWaitDelay = 5 * time.Second

// execTarget is exec:COMMAND: sh -c COMMAND with the credentials as JSON on stdin.
type execTarget struct {
	spec    string
	command string
	env     Env
}

// execInput is the document the command reads; Version lets it evolve.
type execInput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	UserName        string `json:"UserName"`
	AccountID       string `json:"AccountId"`
	Created         string `json:"Created"`
}

func newExec(spec, command string, env Env) (Target, error) {
	if strings.TrimSpace(command) == "" {
		return nil, errors.New("exec needs a command")
	}
	return &execTarget{spec: spec, command: command, env: env}, nil
}

func (t *execTarget) String() string { return t.spec }

// Deliver runs the command once. Its output goes to Env.Stderr with the secret
// redacted; what it did cannot be read back, so there is no restore, and the
// command itself must tolerate being run twice with the same key.
func (t *execTarget) Deliver(ctx context.Context, c Credentials) (func(context.Context) error, error) {
	if err := Validate(c); err != nil {
		return nil, fmt.Errorf("deliver to %s: %w", t.spec, err)
	}
	in, err := json.Marshal(execInput{
		Version: 1, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey.Reveal(),
		UserName: c.UserName, AccountID: c.AccountID, Created: c.Created.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return nil, fmt.Errorf("deliver to %s: encode credentials: %w", t.spec, err)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", t.command)
	cmd.Stdin = bytes.NewReader(in)
	cmd.WaitDelay = execWaitDelay
	var stdout, stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr // Env is nil: the parent's environment
	runErr := cmd.Run()
	sec := c.SecretAccessKey.Reveal()
	for _, b := range []*tailBuffer{&stdout, &stderr} {
		if out := b.String(); out != "" {
			io.WriteString(t.env.Stderr, redactOutput(out, sec))
		}
	}
	if runErr != nil {
		msg := runErr.Error()
		if line := lastLine(redactOutput(stderr.String(), sec)); line != "" {
			msg += ": " + line
		}
		return nil, Scrub(fmt.Errorf("deliver to %s: %s", t.spec, msg), c)
	}
	return nil, nil
}

// redactOutput hides sec in out, including the tail of it that survives at
// the start of a truncated buffer.
func redactOutput(out, sec string) string {
	out = strings.ReplaceAll(out, sec, redacted)
	for n := len(sec) - 1; n >= 4; n-- {
		if strings.HasPrefix(out, sec[len(sec)-n:]) {
			return redacted + out[n:]
		}
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\r\n \t"), "\n")
	return oneLine(lines[len(lines)-1])
}

// tailBuffer keeps the last execOutputLimit bytes written to it, so a chatty
// or hostile command cannot exhaust memory. exec writes from its own goroutines.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - execOutputLimit; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
