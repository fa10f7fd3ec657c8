package audit

import (
	"fmt"
	"regexp"
	"strings"
)

// Names come from the account (and, in tests and fuzzing, from arbitrary
// report text), so every name pasted into a command is shell-quoted unless
// it is made only of characters IAM names allow and the shell leaves alone.
var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_+=,.@:/-]+$`)

func shq(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// keyArg is the --access-key-id value: the real id, or a placeholder the
// user fills from list-access-keys (the credential report names no ids).
func keyArg(k Key) string {
	if k.ID != "" {
		return shq(k.ID)
	}
	return "<ACCESS_KEY_ID>"
}

// findKeyStep tells how to learn a key id the inventory lacks.
func findKeyStep(user string, k Key) string {
	if k.ID != "" {
		return ""
	}
	if user == "" {
		return "find the root user's key id on its Security credentials page, then: "
	}
	return fmt.Sprintf("find the key id (slot %d in the credential report) with `aws iam list-access-keys --user-name %s`, then: ",
		k.Slot, shq(user))
}

func deactivateCmd(user string, k Key) string {
	return fmt.Sprintf("aws iam update-access-key --user-name %s --access-key-id %s --status Inactive", shq(user), keyArg(k))
}

func deleteCmd(user string, k Key) string {
	return fmt.Sprintf("aws iam delete-access-key --user-name %s --access-key-id %s", shq(user), keyArg(k))
}

// rotateSteps is the safe rotation order: create, deliver, deactivate, delete.
func rotateSteps(user string, k Key) string {
	return findKeyStep(user, k) + fmt.Sprintf(
		"rotate it: `aws iam create-access-key --user-name %s`, put the new key where the old one is used, then `%s`, "+
			"and once nothing breaks `%s` (or let `keywarden rotate` do all of it)",
		shq(user), deactivateCmd(user, k), deleteCmd(user, k))
}
