package rotate_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/rotate"
)

// statusRotations are one open rotation of a profile's key, one kept and
// one interrupted, as status shows them.
func statusRotations() []*rotate.Rotation {
	at := time.Date(2026, 11, 23, 16, 55, 33, 0, time.UTC)
	return []*rotate.Rotation{
		{ID: "rot-20261123T165533Z-2f707179", Step: rotate.StepDeactivated, Account: "123456789012", User: "deploy",
			OldKeyID: "AKIARZPUZDIKLUUP5IM5", NewKeyID: "AKIARZPUZDIKNKW63YEJ", Created: at,
			Targets: []rotate.Target{{Spec: "credentials:default,ci", Delivered: true}}, Profile: "default",
			Files:  rotate.Files{Credentials: "/home/me/.aws/credentials", Config: "/home/me/.aws/config"},
			Backup: "/home/me/.aws/credentials.keywarden-20261123T165533Z.bak", StartedAt: at, Grace: rotate.Duration(7 * 24 * time.Hour),
			DeactivatedAt: at, DeleteAfter: at.Add(7 * 24 * time.Hour)},
		{ID: "rot-20261124T090000Z-00aa11bb", Step: rotate.StepKept, Account: "123456789012", User: "ci-deployer",
			OldKeyID: "AKIARZPUZDIKJV5X4EMH", NewKeyID: "AKIARZPUZDIKFDKLFA5G",
			Targets:   []rotate.Target{{Spec: "secretsmanager:ci/deployer", Delivered: true}, {Spec: "github:acme/api", Delivered: false}},
			StartedAt: at.Add(16 * time.Hour), DeleteAfter: at, Note: "old key AKIARZPUZDIKJV5X4EMH was used after it was deactivated"},
		{ID: "rot-20261125T000000Z-ffffffff", Step: rotate.StepCreating, Account: "123456789012", User: "svc", StartedAt: at.Add(31 * time.Hour)},
	}
}

// TestStatusGolden pins status's table and JSON, byte for byte (the golden
// files were written by the cli's renderers before they moved here).
func TestStatusGolden(t *testing.T) {
	for _, tt := range []struct {
		golden string
		write  func(io.Writer, []*rotate.Rotation) error
		rs     []*rotate.Rotation
	}{
		{"status.txt", rotate.WriteTable, statusRotations()},
		{"status.json", rotate.WriteJSON, statusRotations()},
		{"status-none.txt", rotate.WriteTable, nil},
		{"status-none.json", rotate.WriteJSON, nil},
	} {
		var got bytes.Buffer
		if err := tt.write(&got, tt.rs); err != nil {
			t.Fatal(err)
		}
		awstest.Golden(t, tt.golden, got.Bytes())
	}
}
