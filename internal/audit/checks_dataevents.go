package audit

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/keywarden/keywarden/internal/severity"
)

var s3WriteEventsInfo = CheckInfo{
	ID: "KW-CT-S3-WRITE-EVENTS", Title: "No CloudTrail trail logs S3 object-level write events for all buckets",
	Severity: severity.Low, Controls: []string{"CIS-v3.0-3.8", "CIS-v5.0-3.8"},
}

var s3ReadEventsInfo = CheckInfo{
	ID: "KW-CT-S3-READ-EVENTS", Title: "No CloudTrail trail logs S3 object-level read events for all buckets",
	Severity: severity.Low, Controls: []string{"CIS-v3.0-3.9", "CIS-v5.0-3.9"},
}

// checkS3WriteEvents fails when no logging trail records PutObject and
// DeleteObject for every bucket: watch's S3 ransomware rules
// (KW-CT-S3-DELETE-BURST, KW-CT-S3-VERSIONS-PURGED, KW-CT-S3-FOREIGN-ENCRYPTION,
// KW-CT-S3-RANSOM-NOTE) then have nothing to see.
func checkS3WriteEvents(inv Inventory, _ Config) []Finding {
	return checkS3DataEvents(inv, s3WriteEventsInfo, false,
		"watch's S3 ransomware rules (KW-CT-S3-DELETE-BURST, KW-CT-S3-VERSIONS-PURGED, KW-CT-S3-FOREIGN-ENCRYPTION, "+
			"KW-CT-S3-RANSOM-NOTE) see objects deleted or rewritten by a leaked key only in these events")
}

// checkS3ReadEvents fails when no logging trail records GetObject for
// every bucket: a leaked key copying the buckets out (watch's
// KW-CT-S3-READ-BURST) leaves no record.
func checkS3ReadEvents(inv Inventory, _ Config) []Finding {
	return checkS3DataEvents(inv, s3ReadEventsInfo, true,
		"watch's exfiltration rule KW-CT-S3-READ-BURST sees a leaked key copying objects out only in these events")
}

// checkS3DataEvents is one finding for the account unless a trail that is
// logging records S3 object events of the kind (reads when read, else
// writes) for all buckets; unknown when the only candidates could not be
// judged.
func checkS3DataEvents(inv Inventory, info CheckInfo, read bool, why string) []Finding {
	fix := fmt.Sprintf("add a data-event selector to a logging trail, keeping its other selectors "+
		"(`aws cloudtrail get-event-selectors --trail-name TRAIL`): `aws cloudtrail put-event-selectors --trail-name TRAIL "+
		"--event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true,"+
		"\"DataResources\":[{\"Type\":\"AWS::S3::Object\",\"Values\":[\"arn:%s:s3\"]}]}]'` (%s)",
		partition(inv), why)
	if !inv.TrailsRead {
		f := undecided(info, inv, accountResource(inv), "cloudtrail_trails")
		f.Remediation = "allow the audit cloudtrail:DescribeTrails and cloudtrail:GetEventSelectors (docs/iam.md), or look yourself: " +
			"`aws cloudtrail get-event-selectors --trail-name TRAIL`"
		return []Finding{f}
	}
	f, failed := someLoggingTrail(info, inv, func(Trail) bool { return true }, func(t Trail) Tri { return s3ObjectCoverage(t, read) })
	if !failed {
		return nil
	}
	var names []string
	for _, t := range inv.Trails {
		names = append(names, t.ARN)
	}
	f.Evidence["trails"] = nonNil(names)
	f.Remediation = fix
	return []Finding{f}
}

// allBuckets matches the data-resource values that mean every bucket,
// present and future: "arn:PARTITION:s3" and "arn:PARTITION:s3:::".
var allBuckets = regexp.MustCompile(`^arn:[a-z-]+:s3(:::)?$`)

// s3ObjectCoverage says whether the trail's selectors log S3 object events
// of every bucket: reads (GetObject) when read, else writes (PutObject,
// DeleteObject). No selectors at all log management events only.
func s3ObjectCoverage(t Trail, read bool) Tri {
	if !t.SelectorsKnown {
		return Unknown
	}
	want := "WriteOnly"
	if read {
		want = "ReadOnly"
	}
	for _, s := range t.EventSelectors {
		if s.ReadWriteType != "All" && s.ReadWriteType != want {
			continue
		}
		for _, d := range s.DataResources {
			if d.Type == "AWS::S3::Object" && slices.ContainsFunc(d.Values, allBuckets.MatchString) {
				return Yes
			}
		}
	}
	for _, s := range t.AdvancedSelectors {
		if advancedS3Objects(s, read) {
			return Yes
		}
	}
	return No
}

// advancedS3Objects reports whether one advanced selector logs the S3
// object events of every bucket of the kind: eventCategory = Data and
// resources.type = AWS::S3::Object, with at most a readOnly condition
// that keeps the kind; any other condition (bucket ARNs, event names)
// narrows it to less than all.
func advancedS3Objects(s AdvancedSelector, read bool) bool {
	data, objects := false, false
	for _, f := range s.Fields {
		narrowed := len(f.NotEquals)+len(f.StartsWith)+len(f.NotStartsWith)+len(f.EndsWith)+len(f.NotEndsWith) > 0
		switch {
		case narrowed || len(f.Equals) != 1:
			return false
		case f.Field == "eventCategory" && f.Equals[0] == "Data":
			data = true
		case f.Field == "resources.type" && f.Equals[0] == "AWS::S3::Object":
			objects = true
		case f.Field == "readOnly" && strings.EqualFold(f.Equals[0], fmt.Sprint(read)):
		default:
			return false
		}
	}
	return data && objects
}
