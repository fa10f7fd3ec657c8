package canary

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/keywarden/keywarden/internal/awsfile"
	"github.com/keywarden/keywarden/internal/credential"
	"github.com/keywarden/keywarden/internal/scan/awskey"
	"github.com/keywarden/keywarden/internal/state"
)

// IAM is what the canary life cycle asks of AWS. Removing what is not there
// is not an error (a resumed delete meets what the killed run removed).
type IAM interface {
	// Account is the account of the credentials the calls are signed with.
	Account(ctx context.Context) (string, error)
	// UserARN is user's ARN, and whether the user exists.
	UserARN(ctx context.Context, user string) (arn string, exists bool, err error)
	// CreateUser creates user under path, without tags; ErrUserExists when it is there.
	CreateUser(ctx context.Context, user, path string) (arn string, err error)
	// PutPolicy sets user's inline policy name to doc.
	PutPolicy(ctx context.Context, user, name, doc string) error
	CreateKey(ctx context.Context, user string) (credential.Key, error)
	// ListKeys lists the ids of user's access keys (none when the user is gone).
	ListKeys(ctx context.Context, user string) ([]string, error)
	DeleteKey(ctx context.Context, user, id string) error
	DeletePolicy(ctx context.Context, user, name string) error
	DeleteUser(ctx context.Context, user string) error
}

// ErrUserExists is wrapped by CreateUser when the user name is taken.
var ErrUserExists = errors.New("the user exists")

// ErrNotFound is wrapped when no canary has the name.
var ErrNotFound = errors.New("no such canary")

// DenyAll is the canary's inline policy: an explicit deny outranks every
// allow, so a policy attached later (AdministratorAccess included) cannot
// arm the key.
const DenyAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`

// Steps a canary's record reaches; each is journaled before the change it
// names, so a killed run is resumed (create, rotate) or undone (delete).
const (
	StepCreatingUser   = "creating-user"   // the user may exist
	StepCreatingPolicy = "creating-policy" // the deny-all policy may be set
	StepCreatingKey    = "creating-key"    // a key may exist whose secret is lost
	StepPlacing        = "placing"         // the placements may hold the key
	StepReady          = "ready"           // planted (closed)
	StepRotating       = "rotating"        // a new key may exist and be in some placements
	StepDeleting       = "deleting"        // placements, key, policy, user being removed
	StepDeleted        = "deleted"         // nothing left (closed)
)

// Engine runs the canary life cycle.
type Engine struct {
	IAM IAM
	DB  *state.DB
	Now func() time.Time
	// Rand draws the generated identities (nil: random).
	Rand *rand.Rand
	// Listed are the public canary-token accounts (verify.KnownCanaries):
	// a canary made in one of them is told apart offline from its key id.
	Listed map[string]string
}

// CreateOptions are a create's inputs.
type CreateOptions struct {
	Name       string
	User, Path string // empty: generated
	Placements []Placement
	// Force creates the canary in an account on a public canary list.
	Force bool
}

// Result is a canary and what the user should know about it.
type Result struct {
	Canary   Canary
	Resumed  bool
	Warnings []string
}

// Create makes the user, its deny-all policy and its key, and plants the
// key. A canary whose create was killed is resumed (its lost key replaced).
func (e *Engine) Create(ctx context.Context, o CreateOptions) (Result, error) {
	if err := CheckName(o.Name); err != nil {
		return Result{}, err
	}
	unlock, err := e.DB.Lock(ctx, "canary-"+o.Name)
	if err != nil {
		return Result{}, err
	}
	defer unlock()
	c, step, found, err := e.load(ctx, o.Name)
	if err != nil {
		return Result{}, err
	}
	res := Result{Resumed: found && step != StepDeleted}
	switch {
	case res.Resumed && !isCreateStep(step):
		return Result{}, fmt.Errorf("canary %s exists (%s); 'keywarden canary delete %s' removes it", o.Name, step, o.Name)
	case !res.Resumed:
		if c, err = e.plan(ctx, o); err != nil {
			return Result{}, err
		}
		step = ""
	}
	if err := e.build(ctx, &c, step); err != nil {
		return res, err
	}
	res.Canary = c
	res.Warnings = e.keyWarnings(c)
	return res, nil
}

func isCreateStep(s string) bool {
	return s == StepCreatingUser || s == StepCreatingPolicy || s == StepCreatingKey || s == StepPlacing
}

// plan checks everything a create needs before its first change: the
// account is not a listed canary account, the user is free, each placement
// can be made.
func (e *Engine) plan(ctx context.Context, o CreateOptions) (Canary, error) {
	for i, p := range o.Placements {
		if _, ok := formats[p.Format]; !ok {
			return Canary{}, fmt.Errorf("--place %s:%s: unknown format", p.Format, p.Path)
		}
		for _, q := range o.Placements[:i] {
			if q.Path == p.Path {
				return Canary{}, fmt.Errorf("--place %s: given twice", p.Path)
			}
		}
		if err := p.check(o.Name); err != nil {
			return Canary{}, err
		}
	}
	account, err := e.IAM.Account(ctx)
	if err != nil {
		return Canary{}, err
	}
	if who, ok := e.Listed[account]; ok && !o.Force {
		return Canary{}, fmt.Errorf("account %s is on a public list of canary accounts (%s): trufflehog and Pacu tell its keys apart offline; use a dedicated account on no list (or --force)", account, who)
	}
	id, err := e.identity(ctx, o)
	if err != nil {
		return Canary{}, err
	}
	return Canary{Name: o.Name, Account: account, User: id.User, Path: id.Path, Policy: id.Policy,
		Placements: slices.Clone(o.Placements), CreatedAt: e.Now().UTC()}, nil
}

// identity is the user's own name and path, or a free generated one.
func (e *Engine) identity(ctx context.Context, o CreateOptions) (Identity, error) {
	for range 8 {
		id := Pick(e.Rand)
		if o.User != "" {
			id.User = o.User
		}
		if o.Path != "" {
			id.Path = o.Path
		}
		if err := checkIdentity(id); err != nil {
			return Identity{}, err
		}
		if tells := Tells(id.Path, id.User); len(tells) > 0 && !o.Force {
			return Identity{}, fmt.Errorf("user %s%s would be told apart as a canary (%s); choose an ordinary name (or --force)",
				id.Path, id.User, strings.Join(tells, ", "))
		}
		_, exists, err := e.IAM.UserARN(ctx, id.User)
		if err != nil {
			return Identity{}, err
		}
		if !exists {
			return id, nil
		}
		if o.User != "" {
			return Identity{}, fmt.Errorf("--user %s: the user exists; a canary is a user of its own", o.User)
		}
	}
	return Identity{}, errors.New("no free user name among those generated; give one with --user")
}

// build runs a create from the step a killed run reached ("" from the start).
func (e *Engine) build(ctx context.Context, c *Canary, from string) error {
	if from == "" || from == StepCreatingUser {
		if err := e.save(ctx, c, StepCreatingUser); err != nil {
			return err
		}
		arn, err := e.IAM.CreateUser(ctx, c.User, c.Path)
		if errors.Is(err, ErrUserExists) {
			// A killed run made it, or (from the start: plan found the name
			// free a moment ago) the SDK retried our own CreateUser after its
			// answer was lost. Either way the user is this canary's.
			arn, _, err = e.IAM.UserARN(ctx, c.User)
		}
		if err != nil {
			return err
		}
		c.ARN = arn
	}
	if from != StepCreatingKey && from != StepPlacing {
		if err := e.save(ctx, c, StepCreatingPolicy); err != nil {
			return err
		}
		if err := e.IAM.PutPolicy(ctx, c.User, c.Policy, DenyAll); err != nil {
			return err
		}
	}
	if err := e.save(ctx, c, StepCreatingKey); err != nil {
		return err
	}
	if err := e.dropKeys(ctx, c.User, ""); err != nil { // a killed run's keys: their secrets are lost
		return err
	}
	key, err := e.IAM.CreateKey(ctx, c.User)
	if err != nil {
		return err
	}
	c.AccessKeyID = key.ID
	if err := e.place(ctx, c, key, StepPlacing); err != nil {
		return err
	}
	return e.save(ctx, c, StepReady)
}

// place plans every placement with key, journals the plans at step, then
// writes them.
func (e *Engine) place(ctx context.Context, c *Canary, key credential.Key, step string) error {
	unlock, err := lockShared(ctx, c.Placements)
	if err != nil {
		return err
	}
	defer unlock()
	v := values{name: c.Name, user: c.User, date: e.Now().UTC().Format("2006-01-02T15:04:05+00:00"), key: key}
	plans := make([]planned, 0, len(c.Placements))
	for i, p := range c.Placements {
		pl, err := p.plan(v)
		if err != nil {
			return err
		}
		plans = append(plans, pl)
		c.Placements[i] = pl.p
	}
	if err := e.save(ctx, c, step); err != nil {
		return err
	}
	for _, pl := range plans {
		if err := pl.write(); err != nil {
			return err
		}
	}
	return nil
}

// lockShared takes the lock every keywarden edit of an AWS shared file
// takes (awsfile.Lock), on each credentials placement, so that a rotation
// of the same file cannot interleave with the canary's edit.
func lockShared(ctx context.Context, places []Placement) (func(), error) {
	var unlocks []func() error
	unlock := func() {
		for _, u := range unlocks {
			u()
		}
	}
	for _, p := range places {
		if p.Format != "credentials" {
			continue
		}
		u, err := awsfile.Lock(ctx, p.Path)
		if err != nil {
			unlock()
			return nil, err
		}
		unlocks = append(unlocks, u)
	}
	return unlock, nil
}

// dropKeys deletes user's keys but keep.
func (e *Engine) dropKeys(ctx context.Context, user, keep string) error {
	ids, err := e.IAM.ListKeys(ctx, user)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == keep {
			continue
		}
		if err := e.IAM.DeleteKey(ctx, user, id); err != nil {
			return err
		}
	}
	return nil
}

// keyWarnings checks the key id as a thief would, offline: it must decode
// to the canary's own account, and that account must be on no list.
func (e *Engine) keyWarnings(c Canary) []string {
	var out []string
	if got, ok := awskey.AccountID(c.AccessKeyID); ok && got != c.Account {
		out = append(out, fmt.Sprintf("the key id decodes to account %s, not %s", got, c.Account))
	}
	if who, ok := e.Listed[c.Account]; ok {
		out = append(out, fmt.Sprintf("account %s is on a public list of canary accounts (%s): the key is told apart offline", c.Account, who))
	}
	return out
}

// Rotate gives the canary a new key: every placement rewritten with it, the
// old key deleted. A killed rotation is resumed by the next.
func (e *Engine) Rotate(ctx context.Context, name string) (Canary, error) {
	unlock, err := e.DB.Lock(ctx, "canary-"+name)
	if err != nil {
		return Canary{}, err
	}
	defer unlock()
	c, step, found, err := e.load(ctx, name)
	if err != nil {
		return Canary{}, err
	}
	if !found || step == StepDeleted {
		return Canary{}, fmt.Errorf("canary %s: %w", name, ErrNotFound)
	}
	if step != StepReady && step != StepRotating {
		return Canary{}, fmt.Errorf("canary %s is unfinished (%s): run 'keywarden canary %s %s' again first", name, step, verbOf(step), name)
	}
	if err := e.save(ctx, &c, StepRotating); err != nil {
		return Canary{}, err
	}
	if err := e.dropKeys(ctx, c.User, c.AccessKeyID); err != nil { // a killed rotation's new key
		return Canary{}, err
	}
	key, err := e.IAM.CreateKey(ctx, c.User)
	if err != nil {
		return Canary{}, err
	}
	if err := e.place(ctx, &c, key, StepRotating); err != nil {
		return Canary{}, err
	}
	if err := e.IAM.DeleteKey(ctx, c.User, c.AccessKeyID); err != nil {
		return Canary{}, err
	}
	c.AccessKeyID = key.ID
	return c, e.save(ctx, &c, StepReady)
}

func verbOf(step string) string {
	if step == StepDeleting {
		return "delete"
	}
	return "create"
}

// Removed is what a delete did.
type Removed struct {
	Canary Canary
	// Missing are the placements whose block was not found (changed or
	// removed by hand): nothing was cut there.
	Missing []Placement
}

// Delete removes the canary's placements (only the bytes keywarden wrote),
// its keys, its policy and its user. A killed delete is finished by the next.
func (e *Engine) Delete(ctx context.Context, name string) (Removed, error) {
	unlock, err := e.DB.Lock(ctx, "canary-"+name)
	if err != nil {
		return Removed{}, err
	}
	defer unlock()
	c, step, found, err := e.load(ctx, name)
	if err != nil {
		return Removed{}, err
	}
	if !found || step == StepDeleted {
		return Removed{}, fmt.Errorf("canary %s: %w", name, ErrNotFound)
	}
	if err := e.save(ctx, &c, StepDeleting); err != nil {
		return Removed{}, err
	}
	out := Removed{Canary: c}
	unlockFiles, err := lockShared(ctx, c.Placements)
	if err != nil {
		return out, err
	}
	defer unlockFiles()
	for _, p := range c.Placements {
		there, err := p.remove()
		if err != nil {
			return out, fmt.Errorf("canary %s: %w", name, err)
		}
		if !there && step == StepReady {
			out.Missing = append(out.Missing, p)
		}
	}
	if err := e.dropKeys(ctx, c.User, ""); err != nil {
		return out, err
	}
	if c.Policy != "" {
		if err := e.IAM.DeletePolicy(ctx, c.User, c.Policy); err != nil {
			return out, err
		}
	}
	if err := e.IAM.DeleteUser(ctx, c.User); err != nil {
		return out, err
	}
	return out, e.save(ctx, &c, StepDeleted)
}

// List lists the canaries of the state database by name (deleted ones left out).
func (e *Engine) List(ctx context.Context) ([]Entry, error) { return listEntries(ctx, e.DB) }

// load reads a canary's record.
func (e *Engine) load(ctx context.Context, name string) (Canary, string, bool, error) {
	rec, err := e.DB.Get(ctx, Kind, name)
	if errors.Is(err, state.ErrNotFound) {
		return Canary{}, "", false, nil
	}
	if err != nil {
		return Canary{}, "", false, fmt.Errorf("read canary %s: %w", name, err)
	}
	c, err := FromRecord(rec)
	return c, rec.Step, true, err
}

// save journals c at step (closed at ready and deleted).
func (e *Engine) save(ctx context.Context, c *Canary, step string) error {
	rec, err := c.Record(step, step != StepReady && step != StepDeleted)
	if err != nil {
		return err
	}
	if err := e.DB.Put(ctx, rec); err != nil {
		return fmt.Errorf("journal canary %s at %s: %w", c.Name, step, err)
	}
	return nil
}
