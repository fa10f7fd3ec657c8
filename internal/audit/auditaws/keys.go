package auditaws

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit"
	"github.com/keywarden/keywarden/internal/awsx"
)

// keyListWorkers bounds concurrent ListAccessKeys calls: enough to hide
// latency, few enough to stay under IAM's account-wide request rate.
const keyListWorkers = 4

// listedKey is one key as ListAccessKeys describes it.
type listedKey struct {
	id      string
	status  audit.KeyStatus
	created time.Time // truncated to the second, as the report writes it
}

// keyIDs fills key ids and current statuses. The credential report names no
// key ids, and IAM has no account-wide key listing (ListAccessKeys without a
// user name lists the caller's own keys), so one ListAccessKeys per user
// holding a key is the minimum; users without keys cost nothing. A failed
// listing leaves that user's ids unknown; only cancellation is an error.
func (r *accountReader) keyIDs(ctx context.Context) error {
	unreported := make(map[string]bool, len(r.unreported))
	for _, name := range r.unreported {
		unreported[name] = true
	}
	var denied atomic.Bool
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(keyListWorkers)
	for i := range r.inv.Users {
		u := &r.inv.Users[i]
		if len(u.Keys) == 0 && !unreported[u.Name] {
			continue
		}
		g.Go(func() error {
			if denied.Load() {
				return nil // one warning says it; spare the account the calls
			}
			listed, err := r.listKeys(gctx, u.Name)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				if awsx.IsDenied(err) && denied.Swap(true) {
					return nil
				}
				r.optional("iam:ListAccessKeys", "key ids of user "+u.Name, err)
				return nil
			}
			keys, warnings := matchKeys(u.Keys, listed, unreported[u.Name])
			u.Keys = keys
			for _, w := range warnings {
				r.warn("user %s: %s", u.Name, w)
			}
			return nil
		})
	}
	return g.Wait()
}

func (r *accountReader) listKeys(ctx context.Context, user string) ([]listedKey, error) {
	var out []listedKey
	pages := iam.NewListAccessKeysPaginator(r.iam, &iam.ListAccessKeysInput{UserName: aws.String(user)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, k := range page.AccessKeyMetadata {
			lk := listedKey{id: aws.ToString(k.AccessKeyId), created: aws.ToTime(k.CreateDate).UTC().Truncate(time.Second)}
			switch k.Status {
			case iamtypes.StatusTypeActive:
				lk.status = audit.KeyActive
			case iamtypes.StatusTypeInactive:
				lk.status = audit.KeyInactive
			}
			out = append(out, lk)
		}
	}
	return out, nil
}

// matchKeys gives the report's key slots their ids. A slot's
// access_key_N_last_rotated is the key's creation time, so slots and listed
// keys are matched by creation second, then by status. Two keys created in
// the same second with the same status are told apart only when their
// report facts are identical too (then either assignment is true);
// otherwise their ids stay empty and a warning says why. The listed status
// wins: it is current, the report may be hours old. Listed keys the report
// does not show (created since it was generated) are added without a slot;
// newUser says the report had no row for the user at all.
func matchKeys(report []audit.Key, listed []listedKey, newUser bool) ([]audit.Key, []string) {
	keys := append([]audit.Key(nil), report...)
	used := make([]bool, len(listed))
	inReport := map[time.Time]bool{}
	var warnings []string
	undated := false
	for i := range keys {
		k := &keys[i]
		if !k.Created.Known() {
			undated = true
			warnings = append(warnings, "key in slot "+slotName(k.Slot)+" has no creation date: its id is unknown")
			continue
		}
		at := k.Created.Time.UTC().Truncate(time.Second)
		inReport[at] = true
		j, ok := pickKey(keys, i, at, listed, used)
		switch {
		case ok:
			used[j] = true
			k.ID, k.Status = listed[j].id, listed[j].status
		case j < 0:
			warnings = append(warnings, "key in slot "+slotName(k.Slot)+" is no longer listed (deleted since the report?)")
		default:
			warnings = append(warnings, "keys created in the same second cannot be told apart: slot "+slotName(k.Slot)+"'s id is unknown")
		}
	}
	for j, lk := range listed {
		// An unmatched key may be an undated or ambiguous slot: adding it
		// would count one key twice.
		if used[j] || inReport[lk.created] || undated {
			continue
		}
		keys = append(keys, audit.Key{ID: lk.id, Status: lk.status, Created: audit.At(lk.created)})
		if !newUser {
			warnings = append(warnings, "key "+lk.id+" is newer than the credential report: its last use is unknown")
		}
	}
	return keys, warnings
}

// pickKey chooses the listed key for report slot keys[i] created at at. It
// returns ok with the index, or -1 when no listed key has that creation
// time, or another index without ok when the choice is ambiguous.
func pickKey(keys []audit.Key, i int, at time.Time, listed []listedKey, used []bool) (int, bool) {
	var same, cands []int
	for j, lk := range listed {
		if used[j] || !lk.created.Equal(at) {
			continue
		}
		same = append(same, j)
		if lk.status == keys[i].Status {
			cands = append(cands, j)
		}
	}
	if len(same) == 0 {
		return -1, false
	}
	if len(cands) == 0 { // the status changed since the report, or is unknown
		cands = same
	}
	if len(cands) == 1 {
		return cands[0], true
	}
	// Several candidates: take the first only when every report slot that
	// could claim them says the same, so the choice changes no fact.
	rivals := 1
	for _, other := range keys[i+1:] {
		if other.Created.Known() && other.Created.Time.UTC().Truncate(time.Second).Equal(at) {
			if !sameFacts(keys[i], other) {
				return 0, false
			}
			rivals++
		}
	}
	return cands[0], rivals == len(cands)
}

func sameFacts(a, b audit.Key) bool {
	return a.Status == b.Status && a.LastUsed.State == b.LastUsed.State && a.LastUsed.Time.Equal(b.LastUsed.Time) &&
		a.LastUsedService == b.LastUsedService && a.LastUsedRegion == b.LastUsedRegion
}

func slotName(slot int) string {
	if slot < 1 || slot > 9 {
		return "?"
	}
	return string(rune('0' + slot))
}
