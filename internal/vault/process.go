package vault

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/credential"
)

// processOutput is the credential_process contract, exactly: Version 1,
// and Expiration omitted for a long-term key (the SDK then never refreshes).
type processOutput struct {
	Version         int    `json:"Version"`
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken,omitempty"`
	Expiration      string `json:"Expiration,omitempty"`
}

// writeProcess writes key, which expires at exp (zero: a long-term key), as
// the one JSON line the SDKs read from a credential_process.
func writeProcess(w io.Writer, key credential.Key, exp time.Time) error {
	out := processOutput{Version: 1, AccessKeyID: key.ID, SecretAccessKey: key.Secret.Reveal(), SessionToken: key.SessionToken.Reveal()}
	if !exp.IsZero() {
		out.Expiration = exp.UTC().Format(time.RFC3339)
	}
	return json.NewEncoder(w).Encode(out)
}

// ProcessCommand is how a credential_process line runs keywarden's creds
// command: exe by its real absolute path (the SDK runs it with no shell
// profile), with --vault when the store is not the default one (vault "").
func ProcessCommand(exe, vault string) (string, error) {
	exe, err := filepath.EvalSymlinks(exe)
	if err != nil {
		return "", fmt.Errorf("locate the keywarden binary: %w", err)
	}
	cmd := shellQuote(exe) + " creds"
	if vault != "" {
		abs, err := filepath.Abs(vault)
		if err != nil {
			return "", err
		}
		cmd += " --vault " + shellQuote(abs)
	}
	return cmd, nil
}

// processLine is the credential_process value serving profile through
// command (ProcessCommand's).
func processLine(command, profile string, noSession bool) string {
	line := command + " process " + shellQuote(profile)
	if noSession {
		line += " --no-session"
	}
	return line
}

// shellQuote quotes s for sh (the SDKs run credential_process through a
// shell, or split it with shell rules) when it needs quoting.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
