package lambda_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
	"github.com/keywarden/keywarden/internal/lambda"
	"github.com/keywarden/keywarden/internal/watch"
	"github.com/keywarden/keywarden/internal/watch/watchaws"
)

// TestExpireGivesWhatOnlyGrowsALifetime: in the function's DynamoDB table,
// dedup marks and processed-object markers carry the TTL attribute, so the
// table does not grow for ever; baselines do not, so they are kept.
func TestExpireGivesWhatOnlyGrowsALifetime(t *testing.T) {
	awstest.Moto(t)
	ctx := context.Background()
	cfg, err := awsx.Load(ctx, awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	db := dynamodb.NewFromConfig(awstest.Fixture(cfg))
	if err := watchaws.CreateDynamoStoreTable(ctx, db, "state"); err != nil {
		t.Fatal(err)
	}
	store := watchaws.NewDynamoStore(cfg, "state")
	lambda.Expire(store)
	now := time.Now()
	for ns, keep := range map[string]time.Duration{
		watch.DedupNamespace:    watch.DefaultDedupWindow + watch.DedupKeep,
		lambda.ObjectsNamespace: lambda.MarkerKeep,
		lambda.EventsNamespace:  lambda.MarkerKeep,
		"baseline/v1":           0,
	} {
		if err := store.Put(ctx, ns, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("state"),
			Key: map[string]types.AttributeValue{"ns": &types.AttributeValueMemberS{Value: ns}, "k": &types.AttributeValueMemberS{Value: "k"}}})
		if err != nil {
			t.Fatal(err)
		}
		expires, ok := out.Item["expires"].(*types.AttributeValueMemberN)
		if keep == 0 {
			if ok {
				t.Errorf("%s expires at %s, want it kept", ns, expires.Value)
			}
			continue
		}
		if !ok {
			t.Errorf("%s has no expires attribute, want one %s ahead", ns, keep)
			continue
		}
		at, _ := strconv.ParseInt(expires.Value, 10, 64)
		if d := time.Unix(at, 0).Sub(now); d < keep-time.Minute || d > keep+time.Minute {
			t.Errorf("%s expires %s ahead, want %s", ns, d, keep)
		}
	}
}
