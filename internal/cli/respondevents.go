package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keywarden/keywarden/internal/cloudtrail"
	"github.com/keywarden/keywarden/internal/cloudtrail/cloudtrailaws"
	"github.com/keywarden/keywarden/internal/respond"
	"github.com/keywarden/keywarden/internal/rotate"
	"github.com/keywarden/keywarden/internal/rotate/rotateaws"
	"github.com/keywarden/keywarden/internal/rotate/target"
	"github.com/keywarden/keywarden/internal/rotate/target/targetaws"
	"github.com/keywarden/keywarden/internal/state"
)

// eventSources reads a key's events from --logs and, unless --no-lookup,
// from CloudTrail LookupEvents; an event found in both counts once.
type eventSources struct {
	cfg  aws.Config
	opts respondOptions
	warn *warner
	logs []cloudtrail.Event // kept: the exposed key's and temporary keys' events (minted keys are found later)
	read bool
}

func newEventSources(cfg aws.Config, opts respondOptions, deps Deps) *eventSources {
	return &eventSources{cfg: cfg, opts: opts, warn: newWarner(deps.Stderr)}
}

func (s *eventSources) Events(ctx context.Context, keyID string, since time.Time) ([]cloudtrail.Event, error) {
	var out []cloudtrail.Event
	seen := map[string]bool{}
	add := func(e cloudtrail.Event) error {
		mine := e.UserIdentity.AccessKeyID == keyID || mintedIt(e, keyID)
		if mine && !e.EventTime.Before(since) && (e.EventID == "" || !seen[e.EventID]) {
			seen[e.EventID] = true
			out = append(out, e)
		}
		return nil
	}
	if len(s.opts.logs) > 0 {
		if err := s.readLogs(ctx, keyID, since); err != nil {
			return nil, err
		}
		for _, e := range s.logs {
			add(e)
		}
	}
	if !s.opts.noLookup {
		warn := cloudtrailaws.LookupWarn(func(m string) { s.warn.add(errors.New(m)) })
		if _, err := cloudtrailaws.LookupKeyEvents(ctx, s.cfg, keyID, s.opts.regions, since, add, warn); err != nil {
			return out, fmt.Errorf("lookup events: %w", err)
		}
	}
	s.warn.flush()
	return out, nil
}

// readLogs reads every --logs source once, keeping the events of the
// exposed key and of temporary keys (which it may have minted).
func (s *eventSources) readLogs(ctx context.Context, keyID string, since time.Time) error {
	if s.read {
		return nil
	}
	s.read = true
	opts := cloudtrail.Options{Since: since, Warn: s.warn.add}
	for _, src := range s.opts.logs {
		err := cloudtrail.ReadFrom(ctx, src, opts, cloudtrailaws.S3Opener(s.cfg), func(e cloudtrail.Event) error {
			if k := e.UserIdentity.AccessKeyID; k == keyID || strings.HasPrefix(k, "ASIA") || isMinting(e) {
				s.logs = append(s.logs, e)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read %s: %w", src, err)
		}
	}
	return nil
}

// isMinting reports whether e is an STS call whose answer carries new
// temporary credentials: how a temporary key's parent is found.
func isMinting(e cloudtrail.Event) bool {
	switch e.EventName {
	case "GetSessionToken", "AssumeRole", "GetFederationToken":
		return e.EventSource == "sts.amazonaws.com" && e.ErrorCode == ""
	}
	return false
}

// mintedIt reports whether e minted the temporary key keyID.
func mintedIt(e cloudtrail.Event, keyID string) bool {
	return strings.HasPrefix(keyID, "ASIA") && isMinting(e) && bytes.Contains(e.ResponseElements, []byte(keyID))
}

// replaceKeyGrace keeps the exposed key (inactive) this long after its
// replacement, as evidence and for undo, before a later rotate deletes it.
const replaceKeyGrace = 30 * 24 * time.Hour

// replaceKey creates a new key for the exposed key's owner and delivers it
// to targets, with rotate's journal, verification and rollback.
func replaceKey(ctx context.Context, deps Deps, db *state.DB, cfg aws.Config, rep *respond.Report, targets []string) error {
	rt := &rotate.Rotator{IAM: rotateaws.New(cfg), DB: db, Out: deps.Stderr, Now: time.Now,
		Confirm:       func(string) bool { return false },
		Targets:       rotate.Targets(target.Env{Kinds: targetaws.Kinds(cfg), Stderr: deps.Stderr}, nil),
		VerifyTimeout: 2 * time.Minute, VerifyEvery: time.Second}
	exposed := rep.KeyID
	if rep.MintedBy != "" {
		exposed = rep.MintedBy // a temporary key: its parent was contained and is replaced
	}
	r, err := rt.Rotate(ctx, rotate.Request{Account: rep.AccountID, User: rep.Owner.User, OldKeyID: exposed,
		Targets: targets, Grace: replaceKeyGrace})
	if err != nil {
		return fmt.Errorf("replace %s: %w", exposed, err)
	}
	rep.Replacement = r.NewKeyID
	return nil
}
