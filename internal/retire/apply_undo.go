package retire

import (
	"context"
	"errors"
	"fmt"

	"github.com/keywarden/keywarden/internal/rotate"
)

// Undone is what an undo did.
type Undone struct {
	Retirement Retirement
	// Removed names what was removed, in order; Left what was not and why
	// (a deleted key, a provider another retirement still uses).
	Removed, Left []string
}

// Undo removes what apply made for the retirement id (or key id): the
// instance profile, the role's policy, the role, the OIDC provider when
// apply created it and no other retirement uses it; and turns the key back
// on when finish turned it off. Each removal is of a thing tagged as this
// retirement's, so a killed apply's leftovers go too and nothing else
// does. A killed undo is finished by the next.
func (a *Applier) Undo(ctx context.Context, id string) (Undone, error) {
	e, err := a.Find(ctx, id)
	if err != nil {
		return Undone{}, err
	}
	id = e.Retirement.ID
	unlock, err := a.DB.Lock(ctx, id)
	if err != nil {
		return Undone{}, err
	}
	defer unlock()
	r, step, _, err := a.load(ctx, id)
	if err != nil {
		return Undone{}, err
	}
	if step == StepUndone {
		return Undone{}, fmt.Errorf("retirement %s is undone already: nothing to undo", id)
	}
	if keyTouched(step) {
		r.UndoReactivates = true
	}
	if err := a.save(ctx, &r, StepUndoing); err != nil {
		return Undone{}, err
	}
	u := Undone{}
	if err := a.reactivate(ctx, &r, &u); err != nil {
		return u, err
	}
	if err := a.unbuild(ctx, &r, &u); err != nil {
		return u, err
	}
	r.Note = "undone"
	u.Retirement = r
	return u, a.save(ctx, &r, StepUndone)
}

// keyTouched says finish may have deactivated (or deleted) the key by step.
func keyTouched(step string) bool {
	switch step {
	case StepDeactivating, StepDeactivated, StepDeleting, StepKept, StepRetired:
		return true
	}
	return false
}

// reactivate turns the key back on if finish turned it off; a deleted key
// cannot come back.
func (a *Applier) reactivate(ctx context.Context, r *Retirement, u *Undone) error {
	if !r.UndoReactivates || r.Reactivated {
		return nil
	}
	// Asked first, as rotate's undo asks: IAM's answer to reactivating a
	// deleted key is no different from any other refusal.
	_, err := a.Keys.LastUsed(ctx, r.AccessKeyID)
	if errors.Is(err, rotate.ErrNoSuchKey) {
		u.Left = append(u.Left, fmt.Sprintf("key %s was deleted: that cannot be undone (create a new key for %s if it is needed)", r.AccessKeyID, r.User))
		return nil
	}
	if err != nil {
		return err
	}
	if err := a.Keys.SetActive(ctx, r.User, r.AccessKeyID, true); err != nil {
		return fmt.Errorf("reactivate key %s: %w", r.AccessKeyID, err)
	}
	r.Reactivated = true
	u.Removed = append(u.Removed, "reactivated key "+r.AccessKeyID)
	return a.save(ctx, r, StepUndoing)
}

// unbuild removes this retirement's instance profile, role policy, role
// and provider, each found again by its tag.
func (a *Applier) unbuild(ctx context.Context, r *Retirement, u *Undone) error {
	name := r.Replacement.Role
	if name == "" {
		return nil
	}
	removed := func(what string) { u.Removed = append(u.Removed, what) }
	if r.Replacement.Kind == ReplaceInstanceProfile {
		p, found, err := a.IAM.InstanceProfile(ctx, name)
		if err != nil {
			return err
		}
		if found && p.Tags[Tag] == r.ID {
			for _, role := range p.Roles {
				if err := a.IAM.RemoveRoleFromInstanceProfile(ctx, name, role); err != nil {
					return err
				}
			}
			if err := a.IAM.DeleteInstanceProfile(ctx, name); err != nil {
				return err
			}
			removed("instance profile " + name)
		}
	}
	role, found, err := a.IAM.Role(ctx, name)
	if err != nil {
		return err
	}
	if found && role.Tags[Tag] == r.ID {
		if err := a.IAM.DeleteRolePolicy(ctx, name, PolicyName); err != nil {
			return err
		}
		if err := a.IAM.DeleteRole(ctx, name); err != nil {
			return err
		}
		removed("role " + role.ARN)
	} else if found {
		u.Left = append(u.Left, fmt.Sprintf("role %s is not this retirement's (no tag %s=%s): left as it is", role.ARN, Tag, r.ID))
	}
	return a.unprovide(ctx, r, u, removed)
}

// unprovide deletes the OIDC provider when a retirement created it (its
// tag), that retirement is this one or undone, and no other live
// retirement trusts it.
func (a *Applier) unprovide(ctx context.Context, r *Retirement, u *Undone, removed func(string)) error {
	if r.ProviderARN == "" {
		return nil
	}
	p, found, err := a.IAM.Provider(ctx, r.ProviderARN)
	if err != nil || !found {
		return err
	}
	owner := p.Tags[Tag]
	if owner == "" {
		return nil // made by hand, or by something else: never keywarden's to remove
	}
	all, err := a.List(ctx)
	if err != nil {
		return err
	}
	for _, e := range all {
		if e.Retirement.ID == r.ID || e.Retirement.ProviderARN != r.ProviderARN {
			continue
		}
		if e.Step != StepUndone {
			u.Left = append(u.Left, fmt.Sprintf("OIDC provider %s: still trusted by retirement %s", r.ProviderARN, e.Retirement.ID))
			return nil
		}
	}
	if owner != r.ID {
		if _, step, found, err := a.load(ctx, owner); err != nil || (found && step != StepUndone) {
			return err
		}
	}
	if err := a.IAM.DeleteProvider(ctx, r.ProviderARN); err != nil {
		return err
	}
	removed("OIDC provider " + r.ProviderARN)
	return nil
}
