package watchaws_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// stateTable creates the table deploy/template.yaml declares in moto and
// returns a client for it.
func stateTable(t *testing.T, name string) *dynamodb.Client {
	t.Helper()
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	client := dynamodb.NewFromConfig(awstest.Fixture(cfg))
	if err := watchaws.CreateDynamoStoreTable(ctx, client, name); err != nil {
		t.Fatal(err)
	}
	return client
}

func TestDynamoStoreRoundTripKeepsNamespacesApart(t *testing.T) {
	stateTable(t, "keywarden-state")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store := watchaws.NewDynamoStore(cfg, "keywarden-state")
	puts := []struct{ ns, key, value string }{
		{"baseline", "AKIA1", "net=10.0.0.0/24"},
		{"watermark", "AKIA1", "2026-11-23T10:00:00Z"},
		{"baseline", "AKIA2", "\x00binary\xff"},
		{"baseline", "AKIA1", "net=192.0.2.0/24"}, // replaces the first
	}
	for _, p := range puts {
		if err := store.Put(context.Background(), p.ns, p.key, []byte(p.value)); err != nil {
			t.Fatalf("put %s/%s: %v", p.ns, p.key, err)
		}
	}
	tests := map[string]struct {
		ns, key string
		want    string
		ok      bool
	}{
		"last put wins":                {"baseline", "AKIA1", "net=192.0.2.0/24", true},
		"same key in another ns":       {"watermark", "AKIA1", "2026-11-23T10:00:00Z", true},
		"binary value intact":          {"baseline", "AKIA2", "\x00binary\xff", true},
		"missing key is not found":     {"baseline", "AKIA3", "", false},
		"missing namespace is not one": {"dedup", "AKIA1", "", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, ok, err := store.Get(context.Background(), tc.ns, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			if ok != tc.ok || string(got) != tc.want {
				t.Errorf("Get(%s, %s) = %q, %v; want %q, %v", tc.ns, tc.key, got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestDynamoStorePutIfAbsentClaimsOnceUntilExpiry(t *testing.T) {
	client := stateTable(t, "claims")
	store := watchaws.NewDynamoStoreClient(client, "claims")
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	store.SetClock(func() time.Time { return now })
	store.SetTTL("objects", time.Hour)
	var got []bool
	claim := func(v string) {
		ok, err := store.PutIfAbsent(context.Background(), "objects", "s3://trail/a.json.gz", []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	claim("first")
	claim("second") // already there
	now = now.Add(2 * time.Hour)
	if _, ok, err := store.Get(context.Background(), "objects", "s3://trail/a.json.gz"); err != nil || ok {
		t.Errorf("Get after expiry: ok=%v err=%v; want hidden", ok, err)
	}
	claim("third") // expired: claimable again
	if diff := cmp.Diff([]bool{true, false, true}, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	v, ok, err := store.Get(context.Background(), "objects", "s3://trail/a.json.gz")
	if err != nil || !ok || string(v) != "third" {
		t.Errorf("Get = %q, %v, %v; want third", v, ok, err)
	}
	out, err := client.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("claims"),
		Key: map[string]types.AttributeValue{"ns": &types.AttributeValueMemberS{Value: "objects"}, "k": &types.AttributeValueMemberS{Value: "s3://trail/a.json.gz"}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := out.Item["expires"].(*types.AttributeValueMemberN); n == nil || n.Value != strconv.FormatInt(now.Add(time.Hour).Unix(), 10) {
		t.Errorf("expires attribute = %#v; want the last put's time + 1h in epoch seconds", out.Item["expires"])
	}
}

func TestDynamoStoreDeleteAndBadKeys(t *testing.T) {
	stateTable(t, "state")
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	store := watchaws.NewDynamoStoreClient(dynamodb.NewFromConfig(cfg), "state")
	if err := store.Put(context.Background(), "ns", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if err := store.Delete(context.Background(), "ns", "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := store.Get(context.Background(), "ns", "k"); ok || err != nil {
		t.Errorf("Get after Delete: ok=%v err=%v", ok, err)
	}
	if err := store.Put(context.Background(), "", "k", nil); err == nil {
		t.Error("Put with an empty namespace succeeded")
	}
	if _, _, err := watchaws.NewDynamoStore(cfg, "no-such-table").Get(context.Background(), "ns", "k"); err == nil {
		t.Error("Get from a missing table succeeded")
	}
}
