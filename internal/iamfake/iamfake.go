// Package iamfake is an IAM account in memory for tests: it serves both
// rotate.IAM and respond.IAM and keeps the rules of IAM that those verbs rely
// on — at most two access keys per user, keys listed oldest first, status
// changes that may be repeated, deletes of a key already gone that succeed,
// last-used dates, inline and managed policies, console passwords — and
// answers errors with IAM's codes, so awsx's classification reads them as it
// reads AWS's. One conformance suite (iamfake_test.go) runs against it and
// against the moto-backed adapters (rotateaws, respondaws), so the two cannot
// drift. It is for speed: a rotation or a response on it takes microseconds.
package iamfake

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/iampolicy"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/secret"
)

// Account is one AWS account's IAM users and keys.
type Account struct {
	// Fail, when set, is asked before every call with the call's IAM
	// action ("iam:CreateAccessKey", "sts:GetCallerIdentity"); an error it
	// returns is the call's, and nothing changes. FailAfter is asked once
	// the call has taken effect: an error it returns replaces the answer,
	// as when a process dies before it hears back. Tests crash or deny any
	// step with them.
	Fail, FailAfter func(action string) error
	// Now is the account's clock (creation and last-use dates).
	Now func() time.Time

	id      string
	mu      sync.Mutex
	users   map[string]*user
	keys    map[string]*key // by id, for the calls that name only a key
	managed map[string]string
	seq     int
}

type user struct {
	name     string
	keys     []*key // oldest first
	inline   map[string]string
	attached []string
	groups   []string
	console  bool
}

type key struct {
	id, user string
	secret   secret.Secret
	active   bool
	created  time.Time
	lastUsed time.Time
	service  string
	region   string
}

var (
	_ rotate.IAM  = (*Account)(nil)
	_ respond.IAM = (*Account)(nil)
)

// New is an empty account whose key ids decode to accountID (12 digits).
// It knows the AWS managed policy respond's quarantine attaches.
func New(accountID string) *Account {
	return &Account{id: accountID, Now: time.Now, users: map[string]*user{}, keys: map[string]*key{},
		managed: map[string]string{respond.QuarantinePolicyARN: quarantineDocument}}
}

// quarantineDocument stands for AWSCompromisedKeyQuarantineV3: a deny of
// the actions an intruder uses first (the real document is longer).
const quarantineDocument = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*","sts:*","ec2:RunInstances","lambda:CreateFunction"],"Resource":"*"}]}`

// apiError is an error with an IAM error code, as the SDK reports one.
func apiError(code, format string, args ...any) error {
	return &smithy.GenericAPIError{Code: code, Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func noSuchEntity(format string, args ...any) error { return apiError("NoSuchEntity", format, args...) }

// begin asks Fail about action and takes the lock; end releases it and
// asks FailAfter, whose error replaces *err.
func (a *Account) begin(action string) error {
	if a.Fail != nil {
		if err := a.Fail(action); err != nil {
			return err
		}
	}
	a.mu.Lock()
	return nil
}

func (a *Account) end(action string, err *error) {
	a.mu.Unlock()
	if a.FailAfter != nil && *err == nil {
		*err = a.FailAfter(action)
	}
}

func (a *Account) user(name string) (*user, error) {
	u, ok := a.users[name]
	if !ok {
		return nil, noSuchEntity("The user with name %s cannot be found.", name)
	}
	return u, nil
}

func (a *Account) key(userName, id string) (*user, *key, error) {
	u, err := a.user(userName)
	if err != nil {
		return nil, nil, err
	}
	i := slices.IndexFunc(u.keys, func(k *key) bool { return k.id == id })
	if i < 0 {
		return nil, nil, noSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	return u, u.keys[i], nil
}

// CreateUser adds a user with no keys (a fixture: rotate and respond never
// create users).
func (a *Account) CreateUser(name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.users[name]; ok {
		return apiError("EntityAlreadyExists", "User with name %s already exists.", name)
	}
	a.users[name] = &user{name: name, inline: map[string]string{}}
	return nil
}

// PutUserPolicy puts an inline policy on a user (a fixture).
func (a *Account) PutUserPolicy(userName, policy, doc string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, err := a.user(userName)
	if err != nil {
		return err
	}
	u.inline[policy] = doc
	return nil
}

// SetLoginProfile gives a user a console password (a fixture).
func (a *Account) SetLoginProfile(userName string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	u, err := a.user(userName)
	if err == nil {
		u.console = true
	}
	return err
}

// Use records that key was used now, for service in region, as IAM's
// last-used data would show it.
func (a *Account) Use(id, service, region string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	k, ok := a.keys[id]
	if !ok {
		return noSuchEntity("The Access Key with id %s cannot be found.", id)
	}
	k.lastUsed, k.service, k.region = a.Now().UTC(), service, region
	return nil
}

// ListKeys lists user's keys, oldest first.
func (a *Account) ListKeys(_ context.Context, userName string) (_ []rotate.AccessKey, err error) {
	if err := a.begin("iam:ListAccessKeys"); err != nil {
		return nil, err
	}
	defer a.end("iam:ListAccessKeys", &err)
	u, err := a.user(userName)
	if err != nil {
		return nil, fmt.Errorf("iam list-access-keys %s: %w", userName, err)
	}
	out := make([]rotate.AccessKey, 0, len(u.keys))
	for _, k := range u.keys {
		out = append(out, rotate.AccessKey{ID: k.id, Active: k.active, Created: k.created})
	}
	return out, nil
}

// LastUsed is when, by which service and where key id was last used; zero
// when never. A key IAM does not know wraps rotate.ErrNoSuchKey, as
// rotateaws's does.
func (a *Account) LastUsed(_ context.Context, id string) (_ rotate.KeyUse, err error) {
	if err := a.begin("iam:GetAccessKeyLastUsed"); err != nil {
		return rotate.KeyUse{}, err
	}
	defer a.end("iam:GetAccessKeyLastUsed", &err)
	k, ok := a.keys[id]
	if !ok {
		return rotate.KeyUse{}, fmt.Errorf("iam get-access-key-last-used %s: %w", id, rotate.ErrNoSuchKey)
	}
	return rotate.KeyUse{At: k.lastUsed, Service: k.service, Region: k.region}, nil
}

// CreateKey creates an active key for user; a third key is refused with
// IAM's LimitExceeded.
func (a *Account) CreateKey(_ context.Context, userName string) (_ credential.Key, _ time.Time, err error) {
	if err := a.begin("iam:CreateAccessKey"); err != nil {
		return credential.Key{}, time.Time{}, err
	}
	defer a.end("iam:CreateAccessKey", &err)
	u, err := a.user(userName)
	if err != nil {
		return credential.Key{}, time.Time{}, fmt.Errorf("iam create-access-key %s: %w", userName, err)
	}
	if len(u.keys) >= 2 {
		return credential.Key{}, time.Time{}, fmt.Errorf("iam create-access-key %s: %w", userName,
			apiError("LimitExceeded", "Cannot exceed quota for AccessKeysPerUser: 2"))
	}
	a.seq++
	seed := a.id + "/" + strconv.Itoa(a.seq)
	account, _ := strconv.ParseUint(a.id, 10, 64)
	k := &key{id: awstest.FakeKeyID(seed, account), user: userName, secret: secret.New(awstest.FakeSecret(seed)),
		active: true, created: a.Now().UTC().Truncate(time.Second)}
	u.keys = append(u.keys, k)
	a.keys[k.id] = k
	return credential.Key{ID: k.id, Secret: k.secret}, k.created, nil
}

// SetActive sets a key's status; setting the status it has is no error.
func (a *Account) SetActive(_ context.Context, userName, id string, active bool) (err error) {
	if err := a.begin("iam:UpdateAccessKey"); err != nil {
		return err
	}
	defer a.end("iam:UpdateAccessKey", &err)
	_, k, err := a.key(userName, id)
	if err != nil {
		return fmt.Errorf("iam update-access-key %s: %w", id, err)
	}
	k.active = active
	return nil
}

// DeleteKey deletes a key; one already gone is no error (deletes are
// retried after crashes).
func (a *Account) DeleteKey(_ context.Context, userName, id string) (err error) {
	if err := a.begin("iam:DeleteAccessKey"); err != nil {
		return err
	}
	defer a.end("iam:DeleteAccessKey", &err)
	u, k, err := a.key(userName, id)
	if err != nil {
		return nil
	}
	u.keys = slices.DeleteFunc(u.keys, func(x *key) bool { return x == k })
	delete(a.keys, id)
	return nil
}

// Verify is STS's GetCallerIdentity signed with the key: Active for an
// active key of this account with its right secret, Invalid otherwise.
func (a *Account) Verify(_ context.Context, c credential.Key) (res credential.Result) {
	var err error
	defer func() {
		if err != nil {
			res = credential.Result{Status: credential.Unknown, Err: fmt.Errorf("check key %s: %w", c.ID, err)}
		}
	}()
	if err = a.begin("sts:GetCallerIdentity"); err != nil {
		return
	}
	defer a.end("sts:GetCallerIdentity", &err)
	k, ok := a.keys[c.ID]
	switch {
	case !ok || !k.active || !c.SessionToken.IsZero():
		return credential.Result{Status: credential.Invalid, Err: fmt.Errorf("check key %s: sts: InvalidClientTokenId", c.ID)}
	case k.secret.Reveal() != c.Secret.Reveal():
		return credential.Result{Status: credential.Invalid, Err: fmt.Errorf("check key %s: sts: SignatureDoesNotMatch", c.ID)}
	}
	return credential.Result{Status: credential.Active, Account: a.id, ARN: a.arn(k.user)}
}

func (a *Account) arn(userName string) string { return "arn:aws:iam::" + a.id + ":user/" + userName }

// KeyOwner is who key id belongs to, its status and last use; a key IAM
// does not know wraps respond.ErrNoSuchKey.
func (a *Account) KeyOwner(_ context.Context, id string) (_ respond.KeyOwner, err error) {
	if err := a.begin("iam:GetAccessKeyLastUsed"); err != nil {
		return respond.KeyOwner{}, err
	}
	defer a.end("iam:GetAccessKeyLastUsed", &err)
	k, ok := a.keys[id]
	if !ok {
		return respond.KeyOwner{}, fmt.Errorf("iam:GetAccessKeyLastUsed %s: %w", id, respond.ErrNoSuchKey)
	}
	status := "Inactive"
	if k.active {
		status = "Active"
	}
	return respond.KeyOwner{User: k.user, Account: a.id, Status: status, Created: k.created,
		LastUsed: k.lastUsed, LastUsedService: k.service, LastUsedRegion: k.region}, nil
}

// UserPolicies is what IAM holds of user's policies.
func (a *Account) UserPolicies(_ context.Context, userName string) (_ respond.UserPolicies, err error) {
	if err := a.begin("iam:GetUser"); err != nil {
		return respond.UserPolicies{}, err
	}
	defer a.end("iam:GetUser", &err)
	u, err := a.user(userName)
	if err != nil {
		return respond.UserPolicies{}, fmt.Errorf("iam:GetUser user %s: %w", userName, err)
	}
	p := respond.UserPolicies{Set: iampolicy.PolicySet{Attached: slices.Clone(u.attached), Groups: slices.Clone(u.groups)},
		Catalog: iampolicy.Catalog{Groups: map[string]iampolicy.GroupPolicies{}, Managed: map[string]string{}}}
	for _, name := range slices.Sorted(maps.Keys(u.inline)) {
		p.Set.Inline = append(p.Set.Inline, iampolicy.InlinePolicy{Name: name, Document: u.inline[name]})
	}
	for _, arn := range u.attached {
		p.Catalog.Managed[arn] = a.managed[arn]
	}
	return p, nil
}

// PutRevokeSessions puts respond's session-revoking inline policy on user.
func (a *Account) PutRevokeSessions(_ context.Context, userName string, before time.Time) (err error) {
	if err := a.begin("iam:PutUserPolicy"); err != nil {
		return err
	}
	defer a.end("iam:PutUserPolicy", &err)
	u, err := a.user(userName)
	if err != nil {
		return fmt.Errorf("iam:PutUserPolicy user %s: %w", userName, err)
	}
	u.inline[respond.RevokePolicyName] = respond.RevokeSessionsDocument(before)
	return nil
}

// DeleteRevokeSessions removes it; none is no error.
func (a *Account) DeleteRevokeSessions(_ context.Context, userName string) (err error) {
	if err := a.begin("iam:DeleteUserPolicy"); err != nil {
		return err
	}
	defer a.end("iam:DeleteUserPolicy", &err)
	u, err := a.user(userName)
	if err != nil {
		return fmt.Errorf("iam:DeleteUserPolicy user %s: %w", userName, err)
	}
	delete(u.inline, respond.RevokePolicyName)
	return nil
}

// AttachQuarantine attaches AWS's quarantine policy; attached already is
// no error.
func (a *Account) AttachQuarantine(_ context.Context, userName string) (err error) {
	if err := a.begin("iam:AttachUserPolicy"); err != nil {
		return err
	}
	defer a.end("iam:AttachUserPolicy", &err)
	u, err := a.user(userName)
	if err != nil {
		return fmt.Errorf("iam:AttachUserPolicy user %s: %w", userName, err)
	}
	if !slices.Contains(u.attached, respond.QuarantinePolicyARN) {
		u.attached = append(u.attached, respond.QuarantinePolicyARN)
	}
	return nil
}

// DetachQuarantine detaches it; not attached is no error.
func (a *Account) DetachQuarantine(_ context.Context, userName string) (err error) {
	if err := a.begin("iam:DetachUserPolicy"); err != nil {
		return err
	}
	defer a.end("iam:DetachUserPolicy", &err)
	u, err := a.user(userName)
	if err != nil {
		return fmt.Errorf("iam:DetachUserPolicy user %s: %w", userName, err)
	}
	u.attached = slices.DeleteFunc(u.attached, func(arn string) bool { return arn == respond.QuarantinePolicyARN })
	return nil
}

// DisableConsole deletes user's console password; had is false when there
// was none.
func (a *Account) DisableConsole(_ context.Context, userName string) (_ bool, err error) {
	if err := a.begin("iam:DeleteLoginProfile"); err != nil {
		return false, err
	}
	defer a.end("iam:DeleteLoginProfile", &err)
	u, err := a.user(userName)
	if err != nil {
		return false, fmt.Errorf("iam:DeleteLoginProfile user %s: %w", userName, err)
	}
	had := u.console
	u.console = false
	return had, nil
}
