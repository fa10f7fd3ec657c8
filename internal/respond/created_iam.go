package respond

import (
	"github.com/keywarden/keywarden/internal/cloudtrail"
)

// IAM creators. Field shapes as logged (stratus-detonation-logs,
// invictus-aws-dataset):
//
//	CreateUser          req.userName                 resp.user.{userName,arn}
//	CreateAccessKey     req.userName (absent = self) resp.accessKey.{accessKeyId,userName}
//	CreateLoginProfile  req.userName                 resp.loginProfile.userName
//	UpdateLoginProfile  req.userName                 resp null
//	CreatePolicy        req.policyName               resp.policy.{arn,policyName}
//	CreatePolicyVersion req.{policyArn,setAsDefault} resp.policyVersion.versionId
//	Attach*Policy       req.{userName|roleName|groupName, policyArn}
//	Put*Policy          req.{userName|roleName|groupName, policyName}
//	CreateRole          req.roleName                 resp.role.{roleName,arn}
//	AddUserToGroup      req.{groupName,userName}
//	UpdateAssumeRolePolicy req.{roleName,policyDocument}
func init() {
	register(createUser, "CreateUser")
	register(createAccessKey, "CreateAccessKey")
	register(loginProfile, "CreateLoginProfile", "UpdateLoginProfile")
	register(createPolicy, "CreatePolicy")
	register(createPolicyVersion, "CreatePolicyVersion")
	register(attachPolicy, "AttachUserPolicy", "AttachRolePolicy", "AttachGroupPolicy")
	register(putPolicy, "PutUserPolicy", "PutRolePolicy", "PutGroupPolicy")
	register(createRole, "CreateRole")
	register(addUserToGroup, "AddUserToGroup")
	register(trustPolicy, "UpdateAssumeRolePolicy")
}

const userConflictNote = "if delete-user fails with DeleteConflict, list what is left: " +
	"aws iam list-access-keys / list-attached-user-policies / list-user-policies / list-groups-for-user / " +
	"list-mfa-devices / list-signing-certificates / list-ssh-public-keys --user-name NAME"

func createUser(_ cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	name := firstNonEmpty(str(resp, "user", "userName"), str(req, "userName"))
	if name == "" {
		return nil
	}
	return []CreatedResource{{Kind: "iam-user", ID: name, ARN: str(resp, "user", "arn"),
		Cleanup: []string{command("iam", "delete-user", "--user-name", name)}, Note: userConflictNote}}
}

func createAccessKey(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	id := str(resp, "accessKey", "accessKeyId")
	user := firstNonEmpty(str(resp, "accessKey", "userName"), str(req, "userName"), e.UserIdentity.UserName)
	if id == "" || user == "" {
		return nil
	}
	return []CreatedResource{{Kind: "access-key", ID: id, Owner: "iam-user/" + user,
		Cleanup: []string{command("iam", "delete-access-key", "--user-name", user, "--access-key-id", id)}}}
}

func loginProfile(e cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	user := firstNonEmpty(str(req, "userName"), str(resp, "loginProfile", "userName"), e.UserIdentity.UserName)
	if user == "" {
		return nil
	}
	r := CreatedResource{Kind: "login-profile", ID: user, Owner: "iam-user/" + user,
		Cleanup: []string{command("iam", "delete-login-profile", "--user-name", user)}}
	if e.EventName == "UpdateLoginProfile" {
		r.Note = "the console password was changed; deleting the login profile also locks out its rightful owner"
	}
	return []CreatedResource{r}
}

func createPolicy(_ cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	arn := str(resp, "policy", "arn")
	if arn == "" {
		return nil
	}
	return []CreatedResource{{Kind: "iam-policy", ID: firstNonEmpty(str(resp, "policy", "policyName"), str(req, "policyName")), ARN: arn,
		Cleanup: []string{command("iam", "delete-policy", "--policy-arn", arn)},
		Note:    "detach it from every user, group and role first: aws iam list-entities-for-policy --policy-arn ARN"}}
}

func createPolicyVersion(_ cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	arn, v := str(req, "policyArn"), str(resp, "policyVersion", "versionId")
	if arn == "" || v == "" {
		return nil
	}
	r := CreatedResource{Kind: "iam-policy-version", ID: arn + ":" + v, ARN: arn,
		Cleanup: []string{command("iam", "delete-policy-version", "--policy-arn", arn, "--version-id", v)}}
	if b, _ := get(req, "setAsDefault").(bool); b {
		r.Note = "this version was made the default: set the previous one back first " +
			"(aws iam set-default-policy-version --policy-arn ARN --version-id PREVIOUS)"
	}
	return []CreatedResource{r}
}

// principal reads which user, role or group a policy call targeted.
func principal(req map[string]any) (kind, name, flag string) {
	switch {
	case str(req, "userName") != "":
		return "user", str(req, "userName"), "--user-name"
	case str(req, "roleName") != "":
		return "role", str(req, "roleName"), "--role-name"
	case str(req, "groupName") != "":
		return "group", str(req, "groupName"), "--group-name"
	}
	return "", "", ""
}

func owner(kind, name string) string {
	if kind == "group" {
		return "" // a group is never created by these readers' users; nothing to order
	}
	return "iam-" + kind + "/" + name
}

func attachPolicy(_ cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	kind, name, flag := principal(req)
	arn := str(req, "policyArn")
	if kind == "" || arn == "" {
		return nil
	}
	return []CreatedResource{{Kind: kind + "-policy-attachment", ID: name + ":" + arn, ARN: arn, Owner: owner(kind, name),
		Cleanup: []string{command("iam", "detach-"+kind+"-policy", flag, name, "--policy-arn", arn)}}}
}

func putPolicy(_ cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	kind, name, flag := principal(req)
	policy := str(req, "policyName")
	if kind == "" || policy == "" {
		return nil
	}
	return []CreatedResource{{Kind: kind + "-inline-policy", ID: name + ":" + policy, Owner: owner(kind, name),
		Cleanup: []string{command("iam", "delete-"+kind+"-policy", flag, name, "--policy-name", policy)}}}
}

func createRole(_ cloudtrail.Event, req, resp map[string]any) []CreatedResource {
	name := firstNonEmpty(str(resp, "role", "roleName"), str(req, "roleName"))
	if name == "" {
		return nil
	}
	return []CreatedResource{{Kind: "iam-role", ID: name, ARN: str(resp, "role", "arn"),
		Cleanup: []string{command("iam", "delete-role", "--role-name", name)},
		Note: "if delete-role fails with DeleteConflict: aws iam list-attached-role-policies / list-role-policies / " +
			"list-instance-profiles-for-role --role-name NAME"}}
}

func addUserToGroup(_ cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	user, group := str(req, "userName"), str(req, "groupName")
	if user == "" || group == "" {
		return nil
	}
	return []CreatedResource{{Kind: "group-membership", ID: user + ":" + group, Owner: "iam-user/" + user,
		Cleanup: []string{command("iam", "remove-user-from-group", "--user-name", user, "--group-name", group)}}}
}

func trustPolicy(_ cloudtrail.Event, req, _ map[string]any) []CreatedResource {
	role := str(req, "roleName")
	if role == "" {
		return nil
	}
	return []CreatedResource{{Kind: "role-trust-policy", ID: role,
		Note: "undo: the role's trust policy was replaced (who may assume it); restore the previous document " +
			"with aws iam update-assume-role-policy after reviewing the new one in this event"}}
}
