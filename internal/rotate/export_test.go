package rotate

// SecretNew names the new key's secret in the journal, for tests that
// check when it is dropped.
const SecretNew = secretNew

// CheckUser is checkUser, for the caller check's own test.
var CheckUser = checkUser
