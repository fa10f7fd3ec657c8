package rotate

// SecretNew names the new key's secret in the journal, for tests that
// check when it is dropped.
const SecretNew = secretNew

// CheckUser is checkUser, for the caller check's own test.
var CheckUser = checkUser

// SecretOld names the old key's secret in the journal.
const SecretOld = secretOld

// Closed is Step.closed: whether a rotation at s has ended.
func Closed(s Step) bool { return s.closed() }

// Recorded lists the secret-bearing files besides its targets that r's
// journal knows of: what a later run removes.
func Recorded(r *Rotation) []string {
	if r.Backup == "" {
		return r.Leftovers
	}
	return append(r.Leftovers, r.Backup)
}
