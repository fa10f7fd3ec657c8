package awsx_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/keywarden/keywarden/internal/awstest"
	"github.com/keywarden/keywarden/internal/awsx"
)

func TestEnabledRegionsListsTheAccountsRegionsInItsPartition(t *testing.T) {
	awstest.Moto(t)
	cfg, err := awsx.Load(context.Background(), awsx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	regions, err := awsx.EnabledRegions(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(regions, "us-east-1") || !slices.Contains(regions, "eu-west-1") || !slices.IsSorted(regions) {
		t.Errorf("regions %v: want sorted, with us-east-1 and eu-west-1", regions)
	}
	for _, r := range regions {
		if strings.HasPrefix(r, "cn-") || strings.HasPrefix(r, "us-gov-") {
			t.Errorf("region %s is outside the aws partition", r)
		}
	}
}
