package auditaws

import (
	"context"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"golang.org/x/sync/errgroup"

	"github.com/keywarden/keywarden/internal/audit"
)

// infraMaxInstances bounds the instance listing, so a huge account cannot
// hold the audit's memory unbounded; past it the listing counts as unread.
const infraMaxInstances = 20000

// infrastructure reads the CloudTrail trails and, concurrently, which
// regions the regional reads (regionalReads: instances, embedded keys) will
// cover. Both reads are optional: a failure warns and leaves the facts
// unread (the checks report them unknown). Only a cancelled ctx is an
// error.
func (r *accountReader) infrastructure(ctx context.Context) error {
	var g errgroup.Group
	g.Go(func() error {
		r.trails(ctx)
		r.trailFacts(ctx)
		return nil
	})
	g.Go(func() error { r.discoverRegions(ctx); return nil })
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("read trails and regions: %w", err)
	}
	return nil
}

// trails lists the trails visible from the configured region: with shadow
// trails, that includes multi-region (and organization) trails homed in
// other regions. Status and selectors are asked of each trail's home
// region, which answers for it whatever its kind.
func (r *accountReader) trails(ctx context.Context) {
	out, err := cloudtrail.NewFromConfig(r.configIn("")).DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil {
		r.optional("cloudtrail:DescribeTrails", "CloudTrail trails", err)
		return
	}
	var trails []audit.Trail
	seen := map[string]bool{}
	for _, t := range out.TrailList {
		arn := aws.ToString(t.TrailARN)
		if seen[arn] {
			continue
		}
		seen[arn] = true
		trails = append(trails, r.trail(ctx, t))
	}
	r.trailTags(ctx, trails)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.inv.Trails, r.inv.TrailsRead = trails, true
}

// trailTags reads the trails' tags: one ListTags per home region for up
// to 20 of its trails (the most one call takes). A trail whose tags could
// not be read keeps TagsRead false.
func (r *accountReader) trailTags(ctx context.Context, trails []audit.Trail) {
	byRegion := map[string][]int{}
	var regions []string
	for i, t := range trails {
		if _, seen := byRegion[t.HomeRegion]; !seen {
			regions = append(regions, t.HomeRegion)
		}
		byRegion[t.HomeRegion] = append(byRegion[t.HomeRegion], i)
	}
	for _, region := range regions {
		client := cloudtrail.NewFromConfig(r.configIn(region))
		for batch := range slices.Chunk(byRegion[region], 20) {
			ids := make([]string, len(batch))
			at := map[string]int{}
			for j, i := range batch {
				ids[j], at[trails[i].ARN] = trails[i].ARN, i
			}
			out, err := client.ListTags(ctx, &cloudtrail.ListTagsInput{ResourceIdList: ids})
			if err != nil {
				r.optional("cloudtrail:ListTags", "tags of the trails homed in "+region, err)
				continue
			}
			// A trail the answer leaves out has no tags.
			for _, i := range batch {
				trails[i].Tags, trails[i].TagsRead = map[string]string{}, true
			}
			for _, res := range out.ResourceTagList {
				i, ok := at[aws.ToString(res.ResourceId)]
				if !ok {
					continue
				}
				for _, tg := range res.TagsList {
					trails[i].Tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
				}
			}
		}
	}
}

func (r *accountReader) trail(ctx context.Context, t cttypes.Trail) audit.Trail {
	arn, home := aws.ToString(t.TrailARN), aws.ToString(t.HomeRegion)
	out := audit.Trail{
		Name: aws.ToString(t.Name), ARN: arn, HomeRegion: home,
		MultiRegion: aws.ToBool(t.IsMultiRegionTrail), Organization: aws.ToBool(t.IsOrganizationTrail),
		LogFileValidation: aws.ToBool(t.LogFileValidationEnabled), KMSKeyID: aws.ToString(t.KmsKeyId),
		LogGroupARN: aws.ToString(t.CloudWatchLogsLogGroupArn), Bucket: aws.ToString(t.S3BucketName),
	}
	client := cloudtrail.NewFromConfig(r.configIn(home))
	status, err := client.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil {
		r.optional("cloudtrail:GetTrailStatus", "whether trail "+arn+" is logging", err)
	} else {
		out.Logging = audit.TriOf(aws.ToBool(status.IsLogging))
	}
	sel, err := client.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
	if err != nil {
		r.optional("cloudtrail:GetEventSelectors", "events trail "+arn+" logs", err)
		return out
	}
	out.SelectorsKnown = true
	for _, s := range sel.EventSelectors {
		e := audit.EventSelector{
			ReadWriteType: string(s.ReadWriteType), IncludeManagementEvents: aws.ToBool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: slices.Clone(s.ExcludeManagementEventSources),
		}
		for _, d := range s.DataResources {
			e.DataResources = append(e.DataResources, audit.DataResource{Type: aws.ToString(d.Type), Values: slices.Clone(d.Values)})
		}
		out.EventSelectors = append(out.EventSelectors, e)
	}
	for _, s := range sel.AdvancedEventSelectors {
		a := audit.AdvancedSelector{Name: aws.ToString(s.Name)}
		for _, f := range s.FieldSelectors {
			a.Fields = append(a.Fields, audit.FieldSelector{
				Field: aws.ToString(f.Field), Equals: f.Equals, NotEquals: f.NotEquals,
				StartsWith: f.StartsWith, NotStartsWith: f.NotStartsWith, EndsWith: f.EndsWith, NotEndsWith: f.NotEndsWith,
			})
		}
		out.AdvancedSelectors = append(out.AdvancedSelectors, a)
	}
	return out
}

// listInstances lists the region's instances that are not terminated,
// with their instance profiles, and keeps their ids for the user data read.
func (rr *regionRead) listInstances(ctx context.Context) {
	pages := ec2.NewDescribeInstancesPaginator(rr.ec2, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1000)})
	var list []audit.Instance
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			rr.fail("ec2:DescribeInstances", err, placeInstances, audit.WhereEC2UserData)
			return
		}
		rr.ok()
		for _, res := range page.Reservations {
			for _, in := range res.Instances {
				if in.State != nil && in.State.Name == ec2types.InstanceStateNameTerminated {
					continue
				}
				list = append(list, instance(in, rr.region))
			}
		}
		if len(list) > infraMaxInstances {
			rr.warn("more than %d EC2 instances in %s: their instance profiles and user data are unknown", infraMaxInstances, rr.region)
			rr.cut = append(rr.cut, fmt.Sprintf("more than %d EC2 instances", infraMaxInstances))
			rr.unread[placeInstances], rr.unread[audit.WhereEC2UserData] = true, true
			return
		}
	}
	rr.instances = list
	for _, in := range list {
		rr.ids = append(rr.ids, in.ID)
	}
}

func instance(in ec2types.Instance, region string) audit.Instance {
	out := audit.Instance{ID: aws.ToString(in.InstanceId), Region: region}
	if in.State != nil {
		out.State = string(in.State.Name)
	}
	if in.IamInstanceProfile != nil {
		out.Profile = aws.ToString(in.IamInstanceProfile.Arn)
		if out.Profile == "" {
			out.Profile = aws.ToString(in.IamInstanceProfile.Id)
		}
	}
	for _, t := range in.Tags {
		if aws.ToString(t.Key) == "Name" {
			out.Name = aws.ToString(t.Value)
		}
	}
	return out
}

// applyRoles has the audit judge each role's trust policy
// (audit.JudgeRoleTrust), which GetAccountAuthorizationDetails returned with
// the users: no extra calls.
func (r *accountReader) applyRoles(d *authDetails) {
	roles := make([]audit.Role, 0, len(d.roles))
	for _, rd := range d.roles {
		role, err := audit.JudgeRoleTrust(rd.name, rd.arn, rd.trust)
		if err != nil {
			r.warn("role %s: %v: whether other accounts may assume it is unknown", rd.name, err)
		}
		if len(rd.attached) > 0 {
			role.Attached = rd.attached
		}
		role.Tags = rd.tags
		roles = append(roles, role)
	}
	r.inv.Roles, r.inv.RolesRead = roles, true
}
