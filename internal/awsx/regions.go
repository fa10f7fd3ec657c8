package awsx

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// EnabledRegions lists the regions enabled for the account
// (ec2:DescribeRegions, opt-in regions not opted into left out), in the
// configured region's partition, whose credentials cannot sign for another.
func EnabledRegions(ctx context.Context, cfg aws.Config) ([]string, error) {
	out, err := ec2.NewFromConfig(cfg).DescribeRegions(ctx, &ec2.DescribeRegionsInput{AllRegions: aws.Bool(false)})
	if err != nil {
		return nil, fmt.Errorf("list enabled regions: %w", err)
	}
	part := Partition(cfg.Region)
	var regions []string
	for _, r := range out.Regions {
		if name := aws.ToString(r.RegionName); name != "" && Partition(name) == part {
			regions = append(regions, name)
		}
	}
	if len(regions) == 0 {
		return nil, errors.New("list enabled regions: none listed")
	}
	slices.Sort(regions)
	return slices.Compact(regions), nil
}

// Partition is the ARN partition of a region: GovCloud and China have
// their own, and ARNs built for another do not resolve.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}
