"""The specification the built-in rule file was bootstrapped from.

`rules/builtin.toml` is the source of truth and is edited by hand; this
module keeps, per rule, templates of realistic (synthetic) secrets so that
`gen_labelled.py` can build the labelled evaluation set independently of the
rule file's own examples. Templates: `{a62:36}` = 36 random characters of
A-Za-z0-9; other sets: a36l (a-z0-9), a36u (A-Z0-9), hex, HEX, b64
(A-Za-z0-9+/), b64u (A-Za-z0-9_-), dig, low, up, b32 (A-Z2-7); `{uuid}`.
"""

R = []  # (fields) in id order; ids are assigned by position and never change


def rule(name, desc, sev, regex, kw, pos, neg, ent=None, allow=None, generic=False, fix=None, multiline=False):
    R.append(dict(name=name, desc=desc, sev=sev, regex=regex, kw=kw, pos=pos, neg=neg,
                  ent=ent, allow=allow or {}, generic=generic, fix=fix,
                  multiline=multiline or "-----BEGIN" in regex))


# A secret-like assignment: NAME ... = "VALUE" (also `:`, `:=`, `=>`), the
# name matched by `names`, the value by `value`.
def ctx(names, value, tail=r"""(?:['"\x60\s;,)]|$)"""):
    return (r"""(?i)(?:""" + names + r""")[\w.\-]{0,25}['"]?\s{0,3}(?:=|:=|:|=>|,)\s{0,3}['"\x60]?(?P<secret>"""
            + value + r""")""" + tail)


UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
B = r"(?:^|[^A-Za-z0-9_])"  # a left boundary for tokens that may start with symbols

# ---------------------------------------------------------------- cloud: AWS
rule("aws-access-key-id", "AWS access key ID", "high",
     r"\b(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b", ["akia", "asia", "abia", "acca"],
     ["aws_access_key_id = AKIA{b32:16}", "export AWS_ACCESS_KEY_ID=ASIA{b32:16}"],
     ["aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "AKIA1234"], ent=3.0)
rule("aws-secret-access-key", "AWS secret access key", "critical",
     r"""(?i)aws[\w.\-]{0,20}(?:secret|sk)[\w.\-]{0,20}['"]?\s{0,3}(?:=|:=|:|=>|,)\s{0,3}['"]?(?P<secret>[A-Za-z0-9/+]{40})(?:['"\s;,]|$)""",
     ["aws"],
     ["aws_secret_access_key = {b64:40}", "AWS_SECRET_ACCESS_KEY: \"{b64:40}\""],
     ["aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}"], ent=4.0)
rule("aws-session-token", "AWS temporary session token", "high",
     r"""(?i)aws[\w.\-]{0,10}session[\w.\-]{0,10}token['"]?\s{0,3}(?:=|:|=>)\s{0,3}['"]?(?P<secret>[A-Za-z0-9/+=]{100,2000})""",
     ["session"],
     ["aws_session_token = IQoJb3JpZ2luX2Vj{b64:300}", "AWS_SESSION_TOKEN=FwoGZXIvYXdzE{b64:250}"],
     ["aws_session_token = <token>", "aws_session_token = {b64:40}"], ent=4.0)
rule("aws-mws-auth-token", "Amazon Marketplace Web Service auth token", "high",
     r"\b(?P<secret>amzn\.mws\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b", ["amzn.mws."],
     ["mws_token = amzn.mws.{uuid}"], ["amzn.mws.00000000-0000-0000-0000-000000000000", "amzn.mws.token"], ent=3.0)
rule("aws-bedrock-api-key", "Amazon Bedrock long-term API key", "high",
     r"\b(?P<secret>ABSK[A-Za-z0-9+/]{109,269}={0,2})", ["absk"],
     ["AWS_BEARER_TOKEN_BEDROCK=ABSK{b64:120}"], ["ABSKxxxx", "ABSK" + "Q" * 20], ent=4.0)

# ---------------------------------------------------------------- cloud: Google
rule("gcp-service-account-key", "Google Cloud service-account key (JSON key file)", "critical",
     r'''(?s)"type"\s*:\s*"service_account".{0,600}?"private_key_id"\s*:\s*"(?P<secret>[0-9a-f]{40})"''',
     ["service_account"],
     ['{{"type": "service_account", "project_id": "demo-{low:6}", "private_key_id": "{hex:40}", "client_email": "ci@demo.iam.gserviceaccount.com"}}'],
     ['{"type": "service_account", "private_key_id": "0000000000000000000000000000000000000000"}',
      '{"type": "authorized_user", "private_key_id": "PRIVATE_KEY_ID"}'], ent=3.0, multiline=True)
rule("gcp-api-key", "Google API key", "high",
     r"\b(?P<secret>AIza[0-9A-Za-z_\-]{35})(?:[^0-9A-Za-z_\-]|$)", ["aiza"],
     ["const mapsKey = \"AIza{b64u:35}\";"], ["AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", "AIza-short"], ent=3.5)
rule("gcp-oauth-client-secret", "Google OAuth client secret", "high",
     r"\b(?P<secret>GOCSPX-[0-9A-Za-z_\-]{28})(?:[^0-9A-Za-z_\-]|$)", ["gocspx-"],
     ["\"client_secret\": \"GOCSPX-{b64u:28}\""], ["GOCSPX-xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "GOCSPX-"], ent=3.5)
rule("google-oauth-refresh-token", "Google OAuth refresh token", "high",
     r"(?:^|[^A-Za-z0-9/])(?P<secret>1//0[0-9A-Za-z_\-]{60,200})", ["1//0"],
     ["refresh_token: 1//0{b64u:99}"], ["see http://10.0.0.1//0", "1//0abc"], ent=4.0)
rule("google-oauth-access-token", "Google OAuth access token", "medium",
     r"\b(?P<secret>ya29\.[0-9A-Za-z_\-]{50,500})", ["ya29."],
     ["Authorization: Bearer ya29.a0{b64u:150}"], ["ya29.short", "ya29.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"], ent=4.0)

# ---------------------------------------------------------------- cloud: Azure
rule("azure-storage-account-key", "Azure storage account key (connection string AccountKey)", "critical",
     r"(?i)AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)", ["accountkey="],
     ["DefaultEndpointsProtocol=https;AccountName=demo{low:5};AccountKey={b64:86}==;EndpointSuffix=core.windows.net"],
     ["AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
      "AccountKey=<key>"], ent=4.5,
     allow={"stopwords": ["eby8vdm02xnocqflquwjpllmetlcdxj1ouzft50usrz6ifsufq2uverc"]})
rule("azure-shared-access-key", "Azure Service Bus / Event Hubs / IoT Hub shared access key", "high",
     r"(?i)SharedAccessKey=(?P<secret>[A-Za-z0-9+/]{42,44}=)", ["sharedaccesskey="],
     ["Endpoint=sb://demo-{low:6}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={b64:43}="],
     ["SharedAccessKey=<your-key>", "SharedAccessKeyName=RootManageSharedAccessKey"], ent=4.0)
rule("azure-sas-token", "Azure shared access signature (SAS) token", "high",
     r"""(?i)\bsv=\d{4}-\d{2}-\d{2}&[^\s"'<>]{0,300}?\bsig=(?P<secret>[A-Za-z0-9%+/]{40,100}(?:%3D|=)?)""", ["sv=20"],
     ["https://demo.blob.core.windows.net/c/f.txt?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig={b64:43}%3D"],
     ["?sv=2022-11-02&sig=<signature>", "sv=2022-11-02&sp=r"], ent=4.0)
rule("azure-ad-client-secret", "Microsoft Entra ID (Azure AD) application client secret", "high",
     r"""(?:^|[\\'"\x60\s>=:(,])(?P<secret>[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?:$|[\\'"\x60\s<),])""", [f"{d}q~" for d in range(10)],
     ["AZURE_CLIENT_SECRET=\"{a62:3}8Q~{a62:31}\""], ["abc8Q~short", "value = \"Q~\""], ent=3.5)
rule("azure-devops-pat", "Azure DevOps personal access token", "high",
     ctx(r"azure|ado_|devops|vsts", r"[a-z2-7]{52}", r"\b"), ["azure", "ado_", "devops", "vsts"],
     ["AZURE_DEVOPS_PAT = \"{b32l:52}\""], ["AZURE_DEVOPS_PAT = $(System.AccessToken)", "devops_org = contoso"], ent=3.5)
rule("azure-app-configuration-connection-string", "Azure App Configuration connection string secret", "high",
     r"(?i)Endpoint=https://[a-z0-9\-]+\.azconfig\.io;Id=[^;\s]+;Secret=(?P<secret>[A-Za-z0-9+/]{42,44}=)", ["azconfig.io"],
     ["Endpoint=https://demo.azconfig.io;Id=ab12-l0-s0:{a62:20};Secret={b64:43}="],
     ["Endpoint=https://demo.azconfig.io;Id=<id>;Secret=<secret>"], ent=4.0)

# ---------------------------------------------------------------- other clouds
rule("alibaba-access-key-id", "Alibaba Cloud AccessKey ID", "high",
     r"\b(?P<secret>LTAI[A-Za-z0-9]{20})\b", ["ltai"], ["access_key_id: LTAI{a62:20}"], ["LTAIxxxxxxxxxxxxxxxxxxxx", "LTAI123"], ent=3.5)
rule("alibaba-access-key-secret", "Alibaba Cloud AccessKey secret", "critical",
     ctx(r"alibaba|aliyun", r"[A-Za-z0-9]{30}", r"\b"), ["alibaba", "aliyun"],
     ["ALIBABA_CLOUD_ACCESS_KEY_SECRET={a62:30}"], ["ALIBABA_CLOUD_REGION=cn-hangzhou", "aliyun_secret = ${SECRET}"], ent=4.0)
rule("tencent-cloud-secret-id", "Tencent Cloud SecretId", "high",
     r"\b(?P<secret>AKID[A-Za-z0-9]{32})\b", ["akid"], ["TENCENTCLOUD_SECRET_ID=AKID{a62:32}"], ["AKIDEXAMPLE", "AKIDxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"], ent=3.5)
rule("digitalocean-personal-access-token", "DigitalOcean personal access token", "high",
     r"\b(?P<secret>dop_v1_[a-f0-9]{64})\b", ["dop_v1_"], ["DIGITALOCEAN_TOKEN=dop_v1_{hex:64}"], ["dop_v1_" + "0" * 64, "dop_v1_abc"], ent=3.0)
rule("digitalocean-oauth-token", "DigitalOcean OAuth access token", "high",
     r"\b(?P<secret>doo_v1_[a-f0-9]{64})\b", ["doo_v1_"], ["token: doo_v1_{hex:64}"], ["doo_v1_" + "f" * 64, "doo_v1_"], ent=3.0)
rule("digitalocean-refresh-token", "DigitalOcean OAuth refresh token", "high",
     r"\b(?P<secret>dor_v1_[a-f0-9]{64})\b", ["dor_v1_"], ["refresh: dor_v1_{hex:64}"], ["dor_v1_" + "a" * 64, "dor_v1_x"], ent=3.0)
rule("ibm-cloud-api-key", "IBM Cloud API key", "high",
     ctx(r"ibm[\w.\-]{0,10}(?:api[_.\-]?key|apikey)", r"[A-Za-z0-9_\-]{44}", r"(?:[^A-Za-z0-9_\-]|$)"), ["ibm"],
     ["IBMCLOUD_API_KEY={b64u:44}"], ["IBMCLOUD_API_KEY=<api-key>", "ibm_region = us-south"], ent=4.0)
rule("heroku-api-key", "Heroku API key", "high",
     ctx(r"heroku", UUID, r"\b"), ["heroku"], ["HEROKU_API_KEY={uuid}"], ["HEROKU_APP_NAME=demo", "HEROKU_API_KEY=00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("heroku-api-key-v2", "Heroku platform API token (HRKU-)", "high",
     r"\b(?P<secret>HRKU-AA[0-9A-Za-z_\-]{58})", ["hrku-"], ["HEROKU_API_KEY=HRKU-AA{b64u:58}"], ["HRKU-AAxxxxxxxx", "HRKU-"], ent=4.0)
rule("cloudflare-api-token", "Cloudflare API token", "high",
     ctx(r"cloudflare|\bcf_api|\bcf_token", r"[A-Za-z0-9_\-]{40}", r"(?:[^A-Za-z0-9_\-]|$)"), ["cloudflare", "cf_api", "cf_token"],
     ["CLOUDFLARE_API_TOKEN={b64u:40}"], ["CLOUDFLARE_ZONE_ID=example.com", "cloudflare_api_token = var.cf_token"], ent=3.8)
rule("cloudflare-global-api-key", "Cloudflare global API key", "critical",
     ctx(r"cloudflare|\bcf_", r"[a-f0-9]{37}", r"\b"), ["cloudflare", "cf_"], ["CLOUDFLARE_API_KEY=\"{hex:37}\""], ["CLOUDFLARE_EMAIL=ops@example.com", "cf_api_key = \"" + "0" * 37 + "\""], ent=3.3)
rule("cloudflare-origin-ca-key", "Cloudflare Origin CA key", "high",
     r"\b(?P<secret>v1\.0-[a-f0-9]{24}-[a-f0-9]{146})\b", ["v1.0-"], ["ORIGIN_CA_KEY=v1.0-{hex:24}-{hex:146}"], ["v1.0-beta", "version v1.0-rc1"], ent=3.5)
rule("fastly-api-token", "Fastly API token", "high",
     ctx(r"fastly", r"[A-Za-z0-9_\-]{32}", r"(?:[^A-Za-z0-9_\-]|$)"), ["fastly"], ["FASTLY_API_TOKEN={b64u:32}"], ["FASTLY_SERVICE_ID=${SERVICE}", "fastly_token: changeme"], ent=3.8)
rule("linode-api-token", "Linode (Akamai) API token", "high",
     ctx(r"linode", r"[a-f0-9]{64}", r"\b"), ["linode"], ["LINODE_TOKEN={hex:64}"], ["LINODE_REGION=eu-west", "linode_token = " + "0" * 64], ent=3.5)
rule("vultr-api-key", "Vultr API key", "high",
     ctx(r"vultr", r"[A-Z0-9]{36}", r"\b"), ["vultr"], ["VULTR_API_KEY={a36u:36}"], ["VULTR_API_KEY=YOUR_API_KEY", "vultr_region = ewr"], ent=3.8)
rule("scaleway-secret-key", "Scaleway secret key", "high",
     ctx(r"scw|scaleway", UUID, r"\b"), ["scw", "scaleway"], ["SCW_SECRET_KEY={uuid}"], ["SCW_DEFAULT_REGION=fr-par", "SCW_SECRET_KEY=xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"], ent=3.0)
rule("hetzner-cloud-token", "Hetzner Cloud API token", "high",
     ctx(r"hcloud|hetzner", r"[A-Za-z0-9]{64}", r"\b"), ["hcloud", "hetzner"], ["HCLOUD_TOKEN={a62:64}"], ["HCLOUD_TOKEN=$(cat token)", "hcloud_location = nbg1"], ent=4.0)
rule("flyio-access-token", "Fly.io access token", "high",
     r"\b(?P<secret>FlyV1 fm\d_[A-Za-z0-9+/=,_\-]{100,})", ["flyv1 fm"], ["FLY_API_TOKEN=\"FlyV1 fm2_{b64:150}\""], ["FlyV1 fm2_short", "FlyV1"], ent=4.0)
rule("supabase-access-token", "Supabase personal access token", "high",
     r"\b(?P<secret>sbp_[a-f0-9]{40})\b", ["sbp_"], ["SUPABASE_ACCESS_TOKEN=sbp_{hex:40}"], ["sbp_" + "0" * 40, "sbp_abc"], ent=3.0)
rule("vercel-access-token", "Vercel access token", "high",
     ctx(r"vercel", r"[A-Za-z0-9]{24}", r"\b"), ["vercel"], ["VERCEL_TOKEN={a62:24}"], ["VERCEL_ORG_ID=team_demo", "VERCEL_TOKEN=${{ secrets.VERCEL_TOKEN }}"], ent=3.8)
rule("netlify-access-token", "Netlify personal access token", "high",
     ctx(r"netlify", r"[A-Za-z0-9_\-]{40,46}", r"(?:[^A-Za-z0-9_\-]|$)"), ["netlify"], ["NETLIFY_AUTH_TOKEN={b64u:43}"], ["NETLIFY_SITE_ID=demo-site", "NETLIFY_AUTH_TOKEN=${NETLIFY_AUTH_TOKEN}"], ent=4.0)
rule("yandex-cloud-api-key", "Yandex Cloud API key", "high",
     r"\b(?P<secret>AQVN[A-Za-z0-9_\-]{35,38})", ["aqvn"], ["YC_API_KEY=AQVN{b64u:36}"], ["AQVNxxxxxxxx", "AQVN"], ent=4.0)
rule("yandex-cloud-iam-token", "Yandex Cloud IAM token", "high",
     r"\b(?P<secret>t1\.[A-Z0-9a-z_\-]+=*\.[A-Z0-9a-z_\-]{86}=*)", ["t1."], ["YC_TOKEN=t1.9euelZ{b64u:40}.{b64u:86}"], ["t1.small", "version t1.2.3"], ent=4.0)

# ---------------------------------------------------------------- source hosts
rule("github-pat", "GitHub personal access token (classic)", "high",
     r"\b(?P<secret>ghp_[A-Za-z0-9]{36})\b", ["ghp_"], ["GITHUB_TOKEN=ghp_{a62:36}", "git clone https://ghp_{a62:36}@github.com/acme/app"],
     ["GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_123"], ent=3.5)
rule("github-fine-grained-pat", "GitHub fine-grained personal access token", "high",
     r"\b(?P<secret>github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b", ["github_pat_"], ["token: github_pat_{a62:22}_{a62:59}"], ["github_pat_<token>", "github_pat_abc_def"], ent=4.0)
rule("github-oauth-token", "GitHub OAuth access token", "high",
     r"\b(?P<secret>gho_[A-Za-z0-9]{36})\b", ["gho_"], ["oauth_token: gho_{a62:36}"], ["gho_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "gho_1"], ent=3.5)
rule("github-app-user-token", "GitHub App user-to-server token", "high",
     r"\b(?P<secret>ghu_[A-Za-z0-9]{36})\b", ["ghu_"], ["ghu_{a62:36}"], ["ghu_short", "ghu_" + "a" * 36], ent=3.5)
rule("github-app-installation-token", "GitHub App installation (server-to-server) token", "high",
     r"\b(?P<secret>ghs_[A-Za-z0-9]{36})\b", ["ghs_"], ["GH_TOKEN=ghs_{a62:36}"], ["ghs_xyz", "ghs_" + "0" * 36], ent=3.5)
rule("github-refresh-token", "GitHub refresh token", "high",
     r"\b(?P<secret>ghr_[A-Za-z0-9]{36,76})\b", ["ghr_"], ["refresh_token=ghr_{a62:76}"], ["ghr_123", "ghr_" + "x" * 36], ent=3.5)
rule("gitlab-pat", "GitLab personal, project or group access token", "high",
     r"\b(?P<secret>glpat-[0-9A-Za-z_\-]{20,300})(?:[^0-9A-Za-z_\-.]|$)", ["glpat-"], ["GITLAB_TOKEN=glpat-{b64u:20}", "private_token: glpat-{b64u:51}"], ["glpat-xxxxxxxxxxxxxxxxxxxx", "glpat-<token>"], ent=3.5)
rule("gitlab-pipeline-trigger-token", "GitLab pipeline trigger token", "high",
     r"\b(?P<secret>glptt-[0-9a-f]{40})\b", ["glptt-"], ["curl -F token=glptt-{hex:40} https://gitlab.example.com/api/v4/projects/1/trigger/pipeline"], ["glptt-TOKEN", "glptt-" + "0" * 40], ent=3.0)
rule("gitlab-runner-registration-token", "GitLab runner registration token", "high",
     r"\b(?P<secret>GR1348941[0-9A-Za-z_\-]{20})(?:[^0-9A-Za-z_\-]|$)", ["gr1348941"], ["--registration-token GR1348941{b64u:20}"], ["GR1348941xxxxxxxxxxxxxxxxxxxx", "GR1348941"], ent=3.5)
rule("gitlab-runner-auth-token", "GitLab runner authentication token", "high",
     r"\b(?P<secret>glrt-[0-9A-Za-z_\-]{20,})(?:[^0-9A-Za-z_\-]|$)", ["glrt-"], ["token = \"glrt-{b64u:20}\""], ["glrt-REDACTED", "glrt-x"], ent=3.5)
rule("gitlab-deploy-token", "GitLab deploy token", "high",
     r"\b(?P<secret>gldt-[0-9A-Za-z_\-]{20,})(?:[^0-9A-Za-z_\-]|$)", ["gldt-"], ["CI_DEPLOY_PASSWORD=gldt-{b64u:20}"], ["gldt-xxxxxxxxxxxxxxxxxxxx", "gldt-"], ent=3.5)
rule("gitlab-feed-token", "GitLab feed token", "medium",
     r"\b(?P<secret>glft-[0-9A-Za-z_\-]{20,})(?:[^0-9A-Za-z_\-]|$)", ["glft-"], ["https://gitlab.example.com/dashboard/issues.atom?feed_token=glft-{b64u:20}"], ["glft-", "glft-<feed-token>"], ent=3.5)
rule("gitlab-oauth-app-secret", "GitLab OAuth application secret", "high",
     r"\b(?P<secret>gloas-[0-9a-f]{64})\b", ["gloas-"], ["client_secret: gloas-{hex:64}"], ["gloas-secret", "gloas-" + "0" * 64], ent=3.0)
rule("gitlab-scim-token", "GitLab SCIM token", "high",
     r"\b(?P<secret>glsoat-[0-9A-Za-z_\-]{20,})(?:[^0-9A-Za-z_\-]|$)", ["glsoat-"], ["glsoat-{b64u:20}"], ["glsoat-short", "glsoat-"], ent=3.5)
rule("gitlab-ci-job-token", "GitLab CI/CD job token", "medium",
     r"\b(?P<secret>glcbt-[0-9A-Za-z]{1,5}_[0-9A-Za-z_\-]{20})(?:[^0-9A-Za-z_\-]|$)", ["glcbt-"], ["CI_JOB_TOKEN=glcbt-64_{b64u:20}"], ["glcbt-$CI_JOB_TOKEN", "glcbt-"], ent=3.5)
rule("gitlab-incoming-mail-token", "GitLab incoming email token", "medium",
     r"\b(?P<secret>glimt-[0-9A-Za-z_\-]{25})(?:[^0-9A-Za-z_\-]|$)", ["glimt-"], ["reply+glimt-{b64u:25}@gitlab.example.com"], ["glimt-", "glimt-abc"], ent=3.5)
rule("gitlab-agent-token", "GitLab agent for Kubernetes token", "high",
     r"\b(?P<secret>glagent-[0-9A-Za-z_\-]{50})(?:[^0-9A-Za-z_\-]|$)", ["glagent-"], ["config.token=glagent-{b64u:50}"], ["glagent-", "glagent-TOKEN"], ent=3.5)
rule("bitbucket-app-password", "Bitbucket / Atlassian app password", "high",
     r"\b(?P<secret>ATBB[A-Za-z0-9_=.\-]{32})(?:[^A-Za-z0-9_=.\-]|$)", ["atbb"], ["BITBUCKET_APP_PASSWORD=ATBB{a62:32}"], ["ATBBxxxx", "ATBB"], ent=3.5)
rule("atlassian-api-token", "Atlassian (Jira, Confluence) API token", "high",
     r"\b(?P<secret>ATATT3[A-Za-z0-9_\-=]{186})(?:[^A-Za-z0-9_\-=]|$)", ["atatt3"], ["JIRA_API_TOKEN=ATATT3xFfGF0{b64u:180}"], ["ATATT3", "ATATT3xFf"], ent=4.0)
rule("bitbucket-client-secret", "Bitbucket OAuth consumer secret", "high",
     ctx(r"bitbucket", r"[A-Za-z0-9_\-=]{64}", r"(?:[^A-Za-z0-9_\-=]|$)"), ["bitbucket"], ["BITBUCKET_CLIENT_SECRET={b64u:64}"], ["BITBUCKET_WORKSPACE=acme", "bitbucket_secret: ${BB_SECRET}"], ent=4.0)
rule("sourcegraph-access-token", "Sourcegraph access token", "high",
     r"\b(?P<secret>sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40})\b", ["sgp_"], ["SRC_ACCESS_TOKEN=sgp_{hex:16}_{hex:40}"], ["sgp_local_" + "0" * 40, "sgp_abc"], ent=3.0)
rule("jfrog-api-key", "JFrog Artifactory API key", "high",
     r"\b(?P<secret>AKCp[A-Za-z0-9]{69})\b", ["akcp"], ["ARTIFACTORY_API_KEY=AKCp{a62:69}"], ["AKCpxxxx", "AKCp"], ent=4.0)
rule("jfrog-identity-token", "JFrog identity / reference token", "high",
     r"\b(?P<secret>cmVmdGtuOjAxOj[A-Za-z0-9]{50,})", ["cmvmdgtuojaxoj"], ["JFROG_ACCESS_TOKEN=cmVmdGtuOjAxOj{a62:50}"], ["cmVmdGtuOjAxOj", "cmVmdGtu"], ent=4.0)

# ---------------------------------------------------------------- chat
rule("slack-bot-token", "Slack bot token", "high",
     r"\b(?P<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24})\b", ["xoxb-"], ["SLACK_BOT_TOKEN=xoxb-{dig:12}-{dig:13}-{a62:24}"], ["xoxb-your-token-here", "SLACK_BOT_TOKEN=xoxb-0000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx"], ent=3.0)
rule("slack-user-token", "Slack user token", "high",
     r"\b(?P<secret>xoxp-[0-9]{10,13}-[0-9]{10,13}-[0-9]{10,13}-[a-f0-9]{32})\b", ["xoxp-"], ["SLACK_USER_TOKEN=xoxp-{dig:12}-{dig:12}-{dig:13}-{hex:32}"], ["xoxp-xxx", "xoxp-1-2-3-abc"], ent=3.0)
rule("slack-app-token", "Slack app-level token", "high",
     r"(?i)\b(?P<secret>xapp-\d-[A-Z0-9]+-\d+-[a-f0-9]{64})\b", ["xapp-"], ["SLACK_APP_TOKEN=xapp-1-A{a36u:10}-{dig:13}-{hex:64}"], ["xapp-1-A0-1-abc", "xapp-token"], ent=3.0)
rule("slack-config-access-token", "Slack configuration access token", "high",
     r"(?i)\b(?P<secret>xoxe\.xox[bp]-\d-[A-Z0-9]{163,166})\b", ["xoxe.xox"], ["xoxe.xoxp-1-{a36u:164}"], ["xoxe.xoxp-1-short", "xoxe.xoxb"], ent=3.5)
rule("slack-config-refresh-token", "Slack configuration refresh token", "high",
     r"(?i)\b(?P<secret>xoxe-\d-[A-Z0-9]{146})\b", ["xoxe-"], ["refresh: xoxe-1-{a36u:146}"], ["xoxe-1-short", "xoxe-"], ent=3.5)
rule("slack-legacy-token", "Slack legacy workspace, bot or OAuth token", "high",
     r"\b(?P<secret>xox[aors]-(?:\d+-){1,3}[A-Za-z0-9]{8,48})\b", ["xoxa-", "xoxo-", "xoxr-", "xoxs-"], ["token = xoxs-{dig:11}-{dig:12}-{a62:24}"], ["xoxs-1-aaaaaaaa", "xoxa-token"], ent=3.0)
rule("slack-webhook-url", "Slack incoming webhook URL", "medium",
     r"(?i)(?P<secret>https?://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/]{43,60})", ["hooks.slack.com"],
     ["SLACK_WEBHOOK=https://hooks.slack.com/services/T{a36u:10}/B{a36u:10}/{a62:24}"],
     ["https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/..."], ent=4.0)
rule("discord-bot-token", "Discord bot token", "high",
     ctx(r"discord", r"[MNO][A-Za-z0-9_\-]{23,25}\.[A-Za-z0-9_\-]{6}\.[A-Za-z0-9_\-]{27,38}", r"(?:[^A-Za-z0-9_\-]|$)"), ["discord"],
     ["DISCORD_TOKEN={discord}"], ["DISCORD_TOKEN=your.bot.token", "discord_channel = general"], ent=4.0)
rule("discord-webhook-url", "Discord webhook URL", "medium",
     r"(?i)(?P<secret>https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{17,20}/[A-Za-z0-9_\-]{60,68})", ["discord"],
     ["webhook: https://discord.com/api/webhooks/{dig:18}/{b64u:68}"], ["https://discord.com/api/webhooks/123/abc", "https://discord.com/developers"], ent=4.0)
rule("telegram-bot-token", "Telegram bot token", "high",
     r"(?:^|[^0-9])(?P<secret>[0-9]{8,10}:AA[0-9A-Za-z_\-]{33})(?:[^0-9A-Za-z_\-]|$)", [":aa"], ["TELEGRAM_BOT_TOKEN={dig:10}:AA{b64u:33}"], ["123456789:AAxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "12:AA"], ent=3.5)
rule("microsoft-teams-webhook", "Microsoft Teams incoming webhook URL", "medium",
     r"(?i)(?P<secret>https://[a-z0-9\-]+\.webhook\.office\.com/webhookb2/[a-z0-9\-]{36}@[a-z0-9\-]{36}/IncomingWebhook/[a-z0-9]{32}/[a-z0-9\-]{36})", ["webhook.office.com"],
     ["https://acme.webhook.office.com/webhookb2/{uuid}@{uuid}/IncomingWebhook/{hex:32}/{uuid}"], ["https://acme.webhook.office.com/webhookb2/<id>", "webhook.office.com"], ent=3.5)
rule("google-chat-webhook", "Google Chat webhook URL", "medium",
     r"(?P<secret>https://chat\.googleapis\.com/v1/spaces/[A-Za-z0-9_\-]{8,20}/messages\?key=[A-Za-z0-9_\-]{30,50}&token=[A-Za-z0-9_\-%=]{30,80})", ["chat.googleapis.com"],
     ["https://chat.googleapis.com/v1/spaces/AAAA{b64u:7}/messages?key=AIza{b64u:35}&token={b64u:43}%3D"], ["https://chat.googleapis.com/v1/spaces/SPACE/messages?key=KEY&token=TOKEN", "chat.googleapis.com"], ent=4.0)
rule("zapier-webhook-url", "Zapier catch-hook webhook URL", "low",
     r"(?P<secret>https://hooks\.zapier\.com/hooks/catch/[0-9]{5,10}/[a-z0-9]{6,8}/?)", ["hooks.zapier.com"],
     ["https://hooks.zapier.com/hooks/catch/{dig:8}/{a36l:7}/"], ["https://hooks.zapier.com/hooks/catch/", "https://zapier.com/apps"], ent=3.0)

# ---------------------------------------------------------------- payment
rule("stripe-secret-key", "Stripe live secret API key", "critical",
     r"\b(?P<secret>sk_live_[0-9A-Za-z]{24,247})\b", ["sk_live_"], ["STRIPE_SECRET_KEY=sk_live_{a62:24}", "Stripe.api_key = \"sk_live_{a62:99}\""],
     ["sk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_live_..."], ent=3.5)
rule("stripe-test-secret-key", "Stripe test-mode secret API key", "low",
     r"\b(?P<secret>sk_test_[0-9A-Za-z]{24,247})\b", ["sk_test_"], ["STRIPE_KEY=sk_test_{a62:24}"], ["sk_test_xxxxxxxxxxxxxxxxxxxxxxxx", "sk_test_123"], ent=3.5)
rule("stripe-restricted-key", "Stripe restricted API key", "high",
     r"\b(?P<secret>rk_(?:live|test)_[0-9A-Za-z]{24,247})\b", ["rk_live_", "rk_test_"], ["rk_live_{a62:24}"], ["rk_live_xxxxxxxxxxxxxxxxxxxxxxxx", "rk_live_"], ent=3.5)
rule("stripe-webhook-secret", "Stripe webhook signing secret", "high",
     r"\b(?P<secret>whsec_[A-Za-z0-9]{32,64})\b", ["whsec_"], ["STRIPE_WEBHOOK_SECRET=whsec_{a62:32}"], ["whsec_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "whsec_..."], ent=3.5)
rule("braintree-access-token", "PayPal Braintree access token", "critical",
     r"\b(?P<secret>access_token\$(?:production|sandbox)\$[0-9a-z]{16}\$[0-9a-f]{32})\b", ["access_token$"], ["BT_TOKEN=access_token$production${a36l:16}${hex:32}"], ["access_token$production$merchant$token", "access_token$"], ent=3.5)
rule("square-access-token", "Square access token", "high",
     r"\b(?P<secret>(?:EAAA|sq0atp-)[0-9A-Za-z_\-]{22,60})\b", ["eaaa", "sq0atp-"], ["SQUARE_ACCESS_TOKEN=EAAA{b64u:60}", "sq0atp-{b64u:22}"], ["EAAAxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "sq0atp-"], ent=3.8)
rule("square-oauth-secret", "Square OAuth application secret", "high",
     r"\b(?P<secret>sq0csp-[0-9A-Za-z_\-]{43})(?:[^0-9A-Za-z_\-]|$)", ["sq0csp-"], ["SQUARE_APP_SECRET=sq0csp-{b64u:43}"], ["sq0csp-xxxxxxxx", "sq0csp-"], ent=4.0)
rule("shopify-access-token", "Shopify Admin API access token", "high",
     r"\b(?P<secret>shpat_[a-fA-F0-9]{32})\b", ["shpat_"], ["SHOPIFY_ACCESS_TOKEN=shpat_{hex:32}"], ["shpat_" + "0" * 32, "shpat_xyz"], ent=3.0)
rule("shopify-custom-app-token", "Shopify custom app access token", "high",
     r"\b(?P<secret>shpca_[a-fA-F0-9]{32})\b", ["shpca_"], ["shpca_{hex:32}"], ["shpca_" + "f" * 32, "shpca_"], ent=3.0)
rule("shopify-private-app-token", "Shopify private app access token", "high",
     r"\b(?P<secret>shppa_[a-fA-F0-9]{32})\b", ["shppa_"], ["password = \"shppa_{hex:32}\""], ["shppa_" + "a" * 32, "shppa_"], ent=3.0)
rule("shopify-shared-secret", "Shopify app shared secret", "high",
     r"\b(?P<secret>shpss_[a-fA-F0-9]{32})\b", ["shpss_"], ["SHOPIFY_API_SECRET=shpss_{hex:32}"], ["shpss_" + "0" * 32, "shpss_"], ent=3.0)
rule("flutterwave-secret-key", "Flutterwave secret key", "high",
     r"\b(?P<secret>FLWSECK(?:_TEST)?-[a-h0-9]{32}-X)", ["flwseck"], ["FLW_SECRET_KEY=FLWSECK-{hex:32}-X"], ["FLWSECK-xxxxxxxx-X", "FLWSECK_TEST"], ent=3.0)
rule("plaid-access-token", "Plaid access token", "high",
     r"\b(?P<secret>access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b", ["access-sandbox-", "access-development-", "access-production-"],
     ["plaid_access_token: access-production-{uuid}"], ["access-production-<token>", "access-sandbox-00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("gocardless-access-token", "GoCardless access token", "high",
     r"\b(?P<secret>live_[A-Za-z0-9_\-=]{40})(?:[^A-Za-z0-9_\-=]|$)", ["live_"], ["GOCARDLESS_ACCESS_TOKEN=live_{b64u:40}"], ["live_xxxxxxxx", "is_live_mode = true"], ent=4.0)

# ---------------------------------------------------------------- email, SMS
rule("twilio-api-key", "Twilio API key SID", "high",
     ctx(r"twilio", r"SK[0-9a-f]{32}", r"\b"), ["twilio"], ["TWILIO_API_KEY=SK{hex:32}"], ["TWILIO_API_KEY=SKxxxxxxxx", "TWILIO_API_KEY=SK" + "0" * 32], ent=3.0)
rule("twilio-auth-token", "Twilio auth token", "high",
     ctx(r"twilio[\w.\-]{0,20}(?:auth|token|secret)", r"[a-f0-9]{32}", r"\b"), ["twilio"], ["TWILIO_AUTH_TOKEN={hex:32}"], ["TWILIO_AUTH_TOKEN=your_auth_token", "twilio_token: " + "0" * 32], ent=3.0)
rule("sendgrid-api-key", "SendGrid API key", "high",
     r"\b(?P<secret>SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)", ["sg."], ["SENDGRID_API_KEY=SG.{b64u:22}.{b64u:43}"], ["SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "SG.short.key"], ent=4.0)
rule("mailgun-api-key", "Mailgun private API key", "high",
     r"\b(?P<secret>key-[0-9a-f]{32})\b", ["key-"], ["MAILGUN_API_KEY=key-{hex:32}"], ["key-" + "0" * 32, "primary-key-index"], ent=3.0)
rule("mailgun-signing-key", "Mailgun webhook signing key", "medium",
     ctx(r"mailgun", r"[a-f0-9]{32}-[a-f0-9]{8}-[a-f0-9]{8}", r"\b"), ["mailgun"], ["MAILGUN_WEBHOOK_SIGNING_KEY={hex:32}-{hex:8}-{hex:8}"], ["MAILGUN_DOMAIN=mg.example.com", "mailgun_key = key"], ent=3.0)
rule("mailchimp-api-key", "Mailchimp API key", "high",
     r"\b(?P<secret>[0-9a-f]{32}-us[0-9]{1,2})\b", ["-us"], ["MAILCHIMP_API_KEY={hex:32}-us21"], ["locale = en-us", "0" * 32 + "-us1"], ent=3.0)
rule("postmark-server-token", "Postmark server API token", "high",
     ctx(r"postmark", UUID, r"\b"), ["postmark"], ["POSTMARK_SERVER_TOKEN={uuid}"], ["POSTMARK_SERVER_TOKEN=POSTMARK_API_TEST", "postmark_from = ops@example.com"], ent=3.0)
rule("mandrill-api-key", "Mailchimp Transactional (Mandrill) API key", "high",
     ctx(r"mandrill", r"md-[A-Za-z0-9_\-]{22}", r"(?:[^A-Za-z0-9_\-]|$)"), ["mandrill"], ["MANDRILL_API_KEY=md-{b64u:22}"], ["MANDRILL_API_KEY=md-xxxx", "mandrill_host = smtp.mandrillapp.com"], ent=3.5)
rule("brevo-api-key", "Brevo (Sendinblue) API key", "high",
     r"\b(?P<secret>xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b", ["xkeysib-"], ["BREVO_API_KEY=xkeysib-{hex:64}-{a62:16}"], ["xkeysib-xxxx", "xkeysib-"], ent=3.5)
rule("brevo-smtp-key", "Brevo (Sendinblue) SMTP key", "high",
     r"\b(?P<secret>xsmtpsib-[a-f0-9]{64}-[A-Za-z0-9]{16})\b", ["xsmtpsib-"], ["SMTP_PASSWORD=xsmtpsib-{hex:64}-{a62:16}"], ["xsmtpsib-xxxx", "xsmtpsib-"], ent=3.5)
rule("vonage-api-secret", "Vonage (Nexmo) API secret", "high",
     ctx(r"vonage|nexmo", r"[A-Za-z0-9]{16}", r"\b"), ["vonage", "nexmo"], ["VONAGE_API_SECRET={a62:16}"], ["VONAGE_API_KEY=<key>", "nexmo_from = Acme"], ent=3.5)
rule("plivo-auth-token", "Plivo auth token", "high",
     ctx(r"plivo", r"[A-Za-z0-9]{40}", r"\b"), ["plivo"], ["PLIVO_AUTH_TOKEN={a62:40}"], ["PLIVO_AUTH_ID=<id>", "plivo_number = 14155550100"], ent=4.0)

# ---------------------------------------------------------------- AI
rule("openai-api-key", "OpenAI API key", "high",
     r"\b(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,74}T3BlbkFJ[A-Za-z0-9_\-]{20,74})(?:[^A-Za-z0-9_\-]|$)", ["t3blbkfj"],
     ["OPENAI_API_KEY=sk-{a62:20}T3BlbkFJ{a62:20}", "OPENAI_API_KEY=sk-proj-{b64u:74}T3BlbkFJ{b64u:74}"], ["sk-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx", "T3BlbkFJ"], ent=4.0)
rule("openai-project-key", "OpenAI project or service-account API key", "high",
     r"\b(?P<secret>sk-(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{80,200})(?:[^A-Za-z0-9_\-]|$)", ["sk-proj-", "sk-svcacct-", "sk-admin-"],
     ["OPENAI_API_KEY=\"sk-proj-{b64u:120}\""], ["sk-proj-xxxxxxxx", "sk-proj-<your key>"], ent=4.0,
     allow={"regexes": ["T3BlbkFJ"]})
rule("anthropic-api-key", "Anthropic API key", "high",
     r"\b(?P<secret>sk-ant-api03-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)", ["sk-ant-api03-"], ["ANTHROPIC_API_KEY=sk-ant-api03-{b64u:93}AA"], ["sk-ant-api03-xxxx", "sk-ant-api03-..."], ent=4.0)
rule("anthropic-admin-key", "Anthropic Admin API key", "critical",
     r"\b(?P<secret>sk-ant-admin01-[A-Za-z0-9_\-]{93}AA)(?:[^A-Za-z0-9_\-]|$)", ["sk-ant-admin01-"], ["ANTHROPIC_ADMIN_KEY=sk-ant-admin01-{b64u:93}AA"], ["sk-ant-admin01-xxxx", "sk-ant-admin01-"], ent=4.0)
rule("huggingface-access-token", "Hugging Face access token", "high",
     r"\b(?P<secret>hf_[A-Za-z]{34})\b", ["hf_"], ["HF_TOKEN=hf_{alpha:34}"], ["hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "hf_hub_download"], ent=3.8)
rule("huggingface-org-token", "Hugging Face organization API token", "high",
     r"\b(?P<secret>api_org_[A-Za-z]{34})\b", ["api_org_"], ["HF_ORG_TOKEN=api_org_{alpha:34}"], ["api_org_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "api_org_id"], ent=3.8)
rule("replicate-api-token", "Replicate API token", "high",
     r"\b(?P<secret>r8_[A-Za-z0-9]{37})\b", ["r8_"], ["REPLICATE_API_TOKEN=r8_{a62:37}"], ["r8_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "r8_"], ent=3.8)
rule("groq-api-key", "Groq API key", "high",
     r"\b(?P<secret>gsk_[A-Za-z0-9]{52})\b", ["gsk_"], ["GROQ_API_KEY=gsk_{a62:52}"], ["gsk_xxxxxxxx", "gsk_"], ent=4.0)
rule("perplexity-api-key", "Perplexity API key", "high",
     r"\b(?P<secret>pplx-[A-Za-z0-9]{48})\b", ["pplx-"], ["PPLX_API_KEY=pplx-{a62:48}"], ["pplx-xxxxxxxx", "pplx-"], ent=4.0)
rule("xai-api-key", "xAI API key", "high",
     r"\b(?P<secret>xai-[A-Za-z0-9]{80})\b", ["xai-"], ["XAI_API_KEY=xai-{a62:80}"], ["xai-xxxxxxxx", "xai-grok"], ent=4.0)
rule("cohere-api-key", "Cohere API key", "high",
     ctx(r"cohere|\bco_api", r"[A-Za-z0-9]{40}", r"\b"), ["cohere", "co_api"], ["COHERE_API_KEY={a62:40}"], ["COHERE_MODEL=command-r", "COHERE_API_KEY=<key>"], ent=4.0)
rule("mistral-api-key", "Mistral AI API key", "high",
     ctx(r"mistral", r"[A-Za-z0-9]{32}", r"\b"), ["mistral"], ["MISTRAL_API_KEY={a62:32}"], ["MISTRAL_MODEL=mistral-large-latest", "MISTRAL_API_KEY=${MISTRAL_API_KEY}"], ent=4.0)
rule("langsmith-api-key", "LangSmith API key", "high",
     r"\b(?P<secret>lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10})\b", ["lsv2_"], ["LANGCHAIN_API_KEY=lsv2_pt_{hex:32}_{hex:10}"], ["lsv2_pt_xxxx", "lsv2_"], ent=3.0)
rule("wandb-api-key", "Weights & Biases API key", "high",
     ctx(r"wandb", r"[a-f0-9]{40}", r"\b"), ["wandb"], ["WANDB_API_KEY={hex:40}"], ["WANDB_PROJECT=demo", "WANDB_API_KEY=" + "0" * 40], ent=3.0)
rule("pinecone-api-key", "Pinecone API key", "high",
     ctx(r"pinecone", r"(?:pcsk_[A-Za-z0-9_]{60,80}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})", r"\b"), ["pinecone"],
     ["PINECONE_API_KEY={uuid}", "PINECONE_API_KEY=pcsk_{a62:70}"], ["PINECONE_ENVIRONMENT=us-west1-gcp", "PINECONE_API_KEY=<key>"], ent=3.0)

# ---------------------------------------------------------------- package registries
rule("npm-access-token", "npm access token", "high",
     r"\b(?P<secret>npm_[A-Za-z0-9]{36})\b", ["npm_"], ["//registry.npmjs.org/:_authToken=npm_{a62:36}"], ["npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "npm_config_registry"], ent=3.5)
rule("npmrc-auth-token", "Registry auth token in .npmrc / .yarnrc", "high",
     r"""(?i)(?:_authToken|npmAuthToken)["']?\s*[=:]\s*["']?(?P<secret>[A-Za-z0-9_\-./+=]{20,})""", ["_authtoken", "npmauthtoken"],
     ["//npm.pkg.github.com/:_authToken={uuid}", "npmAuthToken: \"{a62:40}\""], ["//registry.npmjs.org/:_authToken=${NPM_TOKEN}", "_authToken=<token>"], ent=3.0,
     allow={"regexes": [r"^npm_[A-Za-z0-9]{36}$"]})
rule("pypi-upload-token", "PyPI / TestPyPI upload token", "high",
     r"\b(?P<secret>pypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_\-]{50,})", ["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
     ["password = pypi-AgEIcHlwaS5vcmc{b64u:140}"], ["password = pypi-AgEIcHlwaS5vcmc", "pypi-token"], ent=4.0)
rule("rubygems-api-key", "RubyGems API key", "high",
     r"\b(?P<secret>rubygems_[a-f0-9]{48})\b", ["rubygems_"], [":rubygems_api_key: rubygems_{hex:48}"], ["rubygems_" + "0" * 48, "rubygems_version"], ent=3.0)
rule("nuget-api-key", "NuGet API key", "high",
     r"\b(?P<secret>oy2[a-z0-9]{43})\b", ["oy2"], ["NUGET_API_KEY=oy2{a36l:43}"], ["oy2xxxxxxxx", "oy2"], ent=3.8)
rule("crates-io-api-token", "crates.io API token", "high",
     r"\b(?P<secret>cio[A-Za-z0-9]{32})\b", ["cio"], ["CARGO_REGISTRY_TOKEN=cio{a62:32}"], ["cioxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "precious"], ent=3.8)
rule("docker-hub-pat", "Docker Hub personal access token", "high",
     r"\b(?P<secret>dckr_pat_[A-Za-z0-9_\-]{27})(?:[^A-Za-z0-9_\-]|$)", ["dckr_pat_"], ["DOCKERHUB_TOKEN=dckr_pat_{b64u:27}"], ["dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx", "dckr_pat_"], ent=3.8)
rule("docker-hub-org-token", "Docker Hub organization access token", "high",
     r"\b(?P<secret>dckr_oat_[A-Za-z0-9_\-]{32})(?:[^A-Za-z0-9_\-]|$)", ["dckr_oat_"], ["DOCKER_ORG_TOKEN=dckr_oat_{b64u:32}"], ["dckr_oat_xxxx", "dckr_oat_"], ent=3.8)
rule("docker-config-auth", "Registry credentials in a Docker config.json / .dockerconfigjson", "high",
     r'''(?s)"auths"\s*:\s*\{.{0,400}?"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/]{16,}={0,2})"''', ['"auths"'],
     ['{{"auths": {{"registry.example.com": {{"auth": "{dockerauth}"}}}}}}'], ['{"auths": {"registry.example.com": {"auth": ""}}}', '{"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}'], ent=3.5, multiline=True)
rule("private-packagist-token", "Private Packagist token", "high",
     r"\b(?P<secret>packagist_[ou][ru]t_[a-f0-9]{68})\b", ["packagist_"], ["COMPOSER_AUTH_TOKEN=packagist_out_{hex:68}"], ["packagist_out_xxxx", "packagist_"], ent=3.0)
rule("clojars-api-token", "Clojars deploy token", "high",
     r"(?i)\b(?P<secret>CLOJARS_[a-z0-9]{60})\b", ["clojars_"], ["CLOJARS_PASSWORD=CLOJARS_{a36l:60}"], ["CLOJARS_USERNAME=demo", "CLOJARS_xxxx"], ent=3.8)

# ---------------------------------------------------------------- infrastructure & observability
rule("vault-service-token", "HashiCorp Vault service token", "critical",
     r"\b(?P<secret>hvs\.[A-Za-z0-9_\-]{90,120})\b", ["hvs."], ["VAULT_TOKEN=hvs.CAESI{b64u:100}"], ["VAULT_TOKEN=hvs.xxxxxxxx", "hvs."], ent=4.0)
rule("vault-batch-token", "HashiCorp Vault batch token", "high",
     r"\b(?P<secret>hvb\.[A-Za-z0-9_\-]{138,300})\b", ["hvb."], ["VAULT_TOKEN=hvb.AAAAAQ{b64u:150}"], ["hvb.xxxxxxxx", "hvb."], ent=4.0)
rule("terraform-cloud-token", "HashiCorp Terraform Cloud / Enterprise API token", "high",
     r"\b(?P<secret>[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70})\b", ["atlasv1"], ["token = \"{a62:14}.atlasv1.{b64u:67}\""], ["xxxxxxxxxxxxxx.atlasv1.xxxx", "atlasv1"], ent=4.0)
rule("consul-acl-token", "HashiCorp Consul ACL token", "high",
     ctx(r"consul[\w.\-]{0,15}(?:token|acl)", UUID, r"\b"), ["consul"], ["CONSUL_HTTP_TOKEN={uuid}"], ["CONSUL_HTTP_ADDR=127.0.0.1:8500", "CONSUL_HTTP_TOKEN=00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("datadog-api-key", "Datadog API key", "high",
     ctx(r"datadog[\w.\-]{0,10}api|\bdd[_\-]?api", r"[a-f0-9]{32}", r"\b"), ["datadog", "dd_api", "dd-api", "ddapi"], ["DD_API_KEY={hex:32}", "datadog_api_key: \"{hex:32}\""], ["DD_API_KEY=<DATADOG_API_KEY>", "DD_API_KEY=" + "0" * 32], ent=3.0)
rule("datadog-app-key", "Datadog application key", "high",
     ctx(r"datadog[\w.\-]{0,10}app|\bdd[_\-]?app", r"[a-f0-9]{40}", r"\b"), ["datadog", "dd_app", "dd-app", "ddapp"], ["DD_APP_KEY={hex:40}"], ["DD_APP_KEY=${DD_APP_KEY}", "dd_app_name = web"], ent=3.0)
rule("new-relic-user-api-key", "New Relic user API key", "high",
     r"\b(?P<secret>NRAK-[A-Z0-9]{27})\b", ["nrak-"], ["NEW_RELIC_API_KEY=NRAK-{a36u:27}"], ["NRAK-XXXXXXXXXXXXXXXXXXXXXXXXXXX", "NRAK-"], ent=3.5)
rule("new-relic-insert-key", "New Relic insert key", "high",
     r"\b(?P<secret>NRII-[A-Za-z0-9_\-]{32})(?:[^A-Za-z0-9_\-]|$)", ["nrii-"], ["NEW_RELIC_INSERT_KEY=NRII-{b64u:32}"], ["NRII-xxxx", "NRII-"], ent=3.5)
rule("new-relic-browser-key", "New Relic browser API token", "medium",
     r"\b(?P<secret>NRJS-[a-f0-9]{19})\b", ["nrjs-"], ["licenseKey: \"NRJS-{hex:19}\""], ["NRJS-xxxx", "NRJS-" + "0" * 19], ent=3.0)
rule("sentry-org-token", "Sentry organization auth token", "high",
     r"\b(?P<secret>sntrys_eyJpYXQiO[A-Za-z0-9+/=_\-]{100,400})", ["sntrys_"], ["SENTRY_AUTH_TOKEN=sntrys_eyJpYXQiO{b64u:150}"], ["sntrys_xxxx", "sntrys_eyJpYXQiO"], ent=4.0)
rule("sentry-user-token", "Sentry user auth token", "high",
     r"\b(?P<secret>sntryu_[a-f0-9]{64})\b", ["sntryu_"], ["SENTRY_AUTH_TOKEN=sntryu_{hex:64}"], ["sntryu_" + "0" * 64, "sntryu_"], ent=3.0)
rule("grafana-cloud-token", "Grafana Cloud access policy token", "high",
     r"\b(?P<secret>glc_[A-Za-z0-9+/]{32,400}={0,2})", ["glc_"], ["GRAFANA_CLOUD_TOKEN=glc_{b64:120}="], ["glc_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "glc_"], ent=4.0)
rule("grafana-service-account-token", "Grafana service account token", "high",
     r"\b(?P<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\b", ["glsa_"], ["GRAFANA_TOKEN=glsa_{a62:32}_{hex:8}"], ["glsa_xxxx_0000", "glsa_"], ent=3.5)
rule("grafana-api-key", "Grafana API key (legacy)", "high",
     r"\b(?P<secret>eyJrIjoi[A-Za-z0-9]{70,400}={0,2})", ["eyjrijoi"], ["GRAFANA_API_KEY=eyJrIjoi{a62:80}"], ["eyJrIjoiXXXX", "eyJrIjoi"], ent=4.0)
rule("dynatrace-api-token", "Dynatrace API token", "high",
     r"\b(?P<secret>dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64})\b", ["dt0c01."], ["DT_API_TOKEN=dt0c01.{a36u:24}.{a36u:64}"], ["dt0c01.XXXX.XXXX", "dt0c01."], ent=3.5)
rule("splunk-hec-token", "Splunk HTTP Event Collector token", "high",
     ctx(r"splunk", UUID, r"\b"), ["splunk"], ["SPLUNK_HEC_TOKEN={uuid}"], ["SPLUNK_HEC_URL=https://splunk.example.com:8088", "SPLUNK_HEC_TOKEN=00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("pagerduty-api-key", "PagerDuty API key", "high",
     ctx(r"pagerduty|\bpd_(?:api|token)", r"[A-Za-z0-9_+\-]{20}", r"(?:[^A-Za-z0-9_+\-]|$)"), ["pagerduty", "pd_api", "pd_token"], ["PAGERDUTY_TOKEN=u+{b64u:18}"], ["PAGERDUTY_SERVICE=web", "PAGERDUTY_TOKEN=${PD_TOKEN}"], ent=3.5)
rule("opsgenie-api-key", "Opsgenie API key", "high",
     ctx(r"opsgenie", UUID, r"\b"), ["opsgenie"], ["OPSGENIE_API_KEY={uuid}"], ["OPSGENIE_API_URL=https://api.opsgenie.com", "OPSGENIE_API_KEY=<key>"], ent=3.0)

# ---------------------------------------------------------------- CI/CD & developer platforms
rule("circleci-token", "CircleCI personal API token", "high",
     r"\b(?P<secret>CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40})\b", ["ccipat_"], ["CIRCLE_TOKEN=CCIPAT_{a62:22}_{hex:40}"], ["CCIPAT_xxxx", "CCIPAT_"], ent=3.5)
rule("buildkite-agent-token", "Buildkite user API access token", "high",
     r"\b(?P<secret>bkua_[a-f0-9]{40})\b", ["bkua_"], ["BUILDKITE_API_TOKEN=bkua_{hex:40}"], ["bkua_" + "0" * 40, "bkua_"], ent=3.0)
rule("sonarqube-token", "SonarQube / SonarCloud token", "high",
     r"\b(?P<secret>sq[pau]_[a-f0-9]{40})\b", ["sqp_", "squ_", "sqa_"], ["SONAR_TOKEN=squ_{hex:40}"], ["squ_" + "0" * 40, "sqp_"], ent=3.0)
rule("snyk-api-token", "Snyk API token", "high",
     ctx(r"snyk", UUID, r"\b"), ["snyk"], ["SNYK_TOKEN={uuid}"], ["SNYK_ORG=acme", "SNYK_TOKEN=${{ secrets.SNYK_TOKEN }}"], ent=3.0)
rule("codecov-token", "Codecov upload token", "medium",
     ctx(r"codecov", UUID, r"\b"), ["codecov"], ["CODECOV_TOKEN={uuid}"], ["CODECOV_TOKEN=${{ secrets.CODECOV_TOKEN }}", "codecov_flags = unit"], ent=3.0)
rule("travis-ci-token", "Travis CI API token", "high",
     ctx(r"travis", r"[A-Za-z0-9_\-]{22}", r"(?:[^A-Za-z0-9_\-]|$)"), ["travis"], ["TRAVIS_API_TOKEN={b64u:22}"], ["TRAVIS_BRANCH=main", "TRAVIS_API_TOKEN=$TRAVIS_TOKEN"], ent=3.8)
rule("launchdarkly-access-token", "LaunchDarkly access token", "high",
     ctx(r"launchdarkly|\bld_(?:api|access|sdk)", r"(?:api|sdk)-" + UUID, r"\b"), ["launchdarkly", "ld_api", "ld_access", "ld_sdk"],
     ["LAUNCHDARKLY_ACCESS_TOKEN=api-{uuid}"], ["LAUNCHDARKLY_PROJECT=default", "LAUNCHDARKLY_ACCESS_TOKEN=api-00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("postman-api-key", "Postman API key", "high",
     r"\b(?P<secret>PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b", ["pmak-"], ["POSTMAN_API_KEY=PMAK-{hex:24}-{hex:34}"], ["PMAK-xxxx", "PMAK-"], ent=3.0)
rule("prefect-api-key", "Prefect API key", "high",
     r"\b(?P<secret>pnu_[A-Za-z0-9]{36})\b", ["pnu_"], ["PREFECT_API_KEY=pnu_{a62:36}"], ["pnu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "pnu_"], ent=3.5)
rule("pulumi-access-token", "Pulumi access token", "high",
     r"\b(?P<secret>pul-[a-f0-9]{40})\b", ["pul-"], ["PULUMI_ACCESS_TOKEN=pul-{hex:40}"], ["pul-" + "0" * 40, "pul-request"], ent=3.0)
rule("doppler-token", "Doppler token", "high",
     r"\b(?P<secret>dp\.(?:pt|st|sa|ct|scim|audit)\.(?:[a-z0-9_\-]{2,35}\.)?[A-Za-z0-9]{40,44})\b", ["dp.pt.", "dp.st.", "dp.sa.", "dp.ct.", "dp.scim.", "dp.audit."], ["DOPPLER_TOKEN=dp.st.prd.{a62:43}", "DOPPLER_TOKEN=dp.pt.{a62:43}"], ["dp.st.xxxx", "dp.pt."], ent=4.0)
rule("planetscale-token", "PlanetScale service token", "high",
     r"\b(?P<secret>pscale_tkn_[A-Za-z0-9_.\-]{32,64})", ["pscale_tkn_"], ["PLANETSCALE_SERVICE_TOKEN=pscale_tkn_{b64u:43}"], ["pscale_tkn_xxxx", "pscale_tkn_"], ent=4.0)
rule("planetscale-password", "PlanetScale database password", "high",
     r"\b(?P<secret>pscale_pw_[A-Za-z0-9_.\-]{32,64})", ["pscale_pw_"], ["DATABASE_PASSWORD=pscale_pw_{b64u:43}"], ["pscale_pw_xxxx", "pscale_pw_"], ent=4.0)
rule("planetscale-oauth-token", "PlanetScale OAuth token", "high",
     r"\b(?P<secret>pscale_oauth_[A-Za-z0-9_.\-]{32,64})", ["pscale_oauth_"], ["pscale_oauth_{b64u:43}"], ["pscale_oauth_xxxx", "pscale_oauth_"], ent=4.0)
rule("tailscale-key", "Tailscale auth or API key", "high",
     r"\b(?P<secret>tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{10,}-[A-Za-z0-9]{20,})\b", ["tskey-"], ["TS_AUTHKEY=tskey-auth-k{a62:12}CNTRL-{a62:32}"], ["TS_AUTHKEY=tskey-auth-xxxxx", "tskey-"], ent=4.0)
rule("openshift-user-token", "OpenShift user token", "high",
     r"\b(?P<secret>sha256~[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)", ["sha256~"], ["oc login --token=sha256~{b64u:43}"], ["sha256~xxxxxxxx", "sha256~"], ent=4.0)
rule("databricks-api-token", "Databricks personal access token", "high",
     r"\b(?P<secret>dapi[a-f0-9]{32}(?:-\d)?)\b", ["dapi"], ["DATABRICKS_TOKEN=dapi{hex:32}"], ["dapi" + "0" * 32, "dapihost"], ent=3.0)
rule("okta-api-token", "Okta API token", "high",
     ctx(r"okta", r"00[A-Za-z0-9_\-]{40}", r"(?:[^A-Za-z0-9_\-]|$)"), ["okta"], ["OKTA_API_TOKEN=00{b64u:40}"], ["OKTA_DOMAIN=acme.okta.com", "OKTA_API_TOKEN={apiToken}"], ent=4.0)
rule("harness-access-token", "Harness personal or service access token", "high",
     r"\b(?P<secret>(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[0-9a-f]{24}\.[A-Za-z0-9]{20})\b", ["pat.", "sat."], ["HARNESS_API_KEY=pat.{b64u:22}.{hex:24}.{a62:20}"], ["pat.xxxx.yyyy", "pat."], ent=3.5)
rule("octopus-deploy-api-key", "Octopus Deploy API key", "high",
     r"\b(?P<secret>API-[A-Z0-9]{26,32})\b", ["api-"], ["OCTOPUS_API_KEY=API-{a36u:26}"], ["API-XXXXXXXXXXXXXXXXXXXXXXXXXX", "API-VERSION"], ent=3.5)
rule("infracost-api-token", "Infracost API token", "medium",
     r"\b(?P<secret>ico-[A-Za-z0-9]{32})\b", ["ico-"], ["INFRACOST_API_KEY=ico-{a62:32}"], ["ico-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ico-file"], ent=3.5)
rule("defined-networking-api-token", "Defined Networking (Nebula) API token", "high",
     r"\b(?P<secret>dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52})\b", ["dnkey-"], ["DN_API_KEY=dnkey-{a36l:26}-{a36l:52}"], ["dnkey-xxxx", "dnkey-"], ent=3.5)
rule("intra42-client-secret", "42 intra API client secret", "high",
     r"\b(?P<secret>s-s4t2(?:ud|af)-[a-f0-9]{64})\b", ["s-s4t2"], ["FT_SECRET=s-s4t2ud-{hex:64}"], ["s-s4t2ud-xxxx", "s-s4t2"], ent=3.0)

# ---------------------------------------------------------------- SaaS
rule("twitter-bearer-token", "Twitter / X API bearer token", "high",
     r"\b(?P<secret>AAAAAAAAAAAAAAAAAAAAA[A-Za-z0-9%]{30,120})", ["aaaaaaaaaaaaaaaaaaaaa"], ["TWITTER_BEARER_TOKEN=AAAAAAAAAAAAAAAAAAAAA{a62:80}"], ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAAAAAAAA%3D"], ent=3.0)
rule("facebook-access-token", "Facebook / Meta Graph API access token", "high",
     r"\b(?P<secret>EAA[BCMGI][A-Za-z0-9]{100,400})\b", ["eaab", "eaac", "eaam", "eaag", "eaai"], ["FB_ACCESS_TOKEN=EAAB{a62:160}"], ["EAABxxxx", "EAAB"], ent=4.0)
rule("facebook-app-secret", "Facebook / Meta app secret", "high",
     ctx(r"facebook|\bfb_app", r"[a-f0-9]{32}", r"\b"), ["facebook", "fb_app"], ["FACEBOOK_APP_SECRET={hex:32}"], ["FACEBOOK_APP_ID=1234567890", "FACEBOOK_APP_SECRET=" + "0" * 32], ent=3.0)
rule("hubspot-private-app-token", "HubSpot private app access token", "high",
     r"\b(?P<secret>pat-(?:na|eu)1-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b", ["pat-na1-", "pat-eu1-"], ["HUBSPOT_TOKEN=pat-na1-{uuid}"], ["pat-na1-xxxx", "pat-na1-00000000-0000-0000-0000-000000000000"], ent=3.0)
rule("clickup-api-token", "ClickUp personal API token", "high",
     r"\b(?P<secret>pk_[0-9]{6,10}_[A-Z0-9]{32})\b", ["pk_"], ["CLICKUP_TOKEN=pk_{dig:8}_{a36u:32}"], ["pk_test_xxxx", "pk_12345678_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"], ent=3.5)
rule("linear-api-key", "Linear API key", "high",
     r"\b(?P<secret>lin_api_[A-Za-z0-9]{40})\b", ["lin_api_"], ["LINEAR_API_KEY=lin_api_{a62:40}"], ["lin_api_xxxx", "lin_api_"], ent=4.0)
rule("figma-access-token", "Figma personal access token", "high",
     r"\b(?P<secret>figd_[A-Za-z0-9_\-]{40})(?:[^A-Za-z0-9_\-]|$)", ["figd_"], ["FIGMA_TOKEN=figd_{b64u:40}"], ["figd_xxxx", "figd_"], ent=4.0)
rule("notion-integration-token", "Notion integration token", "high",
     r"\b(?P<secret>(?:secret_[A-Za-z0-9]{43}|ntn_[0-9]{11}[A-Za-z0-9]{35}))\b", ["secret_", "ntn_"], ["NOTION_TOKEN=secret_{a62:43}", "NOTION_TOKEN=ntn_{dig:11}{a62:35}"], ["secret_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "secret_key_base"], ent=4.0)
rule("airtable-personal-access-token", "Airtable personal access token", "high",
     r"\b(?P<secret>pat[A-Za-z0-9]{14}\.[a-f0-9]{64})\b", ["pat"], ["AIRTABLE_TOKEN=pat{a62:14}.{hex:64}"], ["patxxxxxxxxxxxxxx." + "0" * 64, "path.join"], ent=3.5)
rule("asana-access-token", "Asana personal access token", "high",
     ctx(r"asana", r"[12]/[0-9]{16}:[a-f0-9]{32}", r"\b"), ["asana"], ["ASANA_TOKEN=1/{dig:16}:{hex:32}"], ["ASANA_WORKSPACE=acme", "ASANA_TOKEN=1/0000000000000000:" + "0" * 32], ent=3.0)
rule("mapbox-secret-token", "Mapbox secret access token", "high",
     r"\b(?P<secret>sk\.eyJ[A-Za-z0-9_\-]{50,}\.[A-Za-z0-9_\-]{20,})", ["sk.eyj"], ["MAPBOX_DOWNLOADS_TOKEN=sk.eyJ1Ijoi{b64u:60}.{b64u:22}"], ["pk.eyJ1IjoiZGVtbyJ9.public", "sk.eyJ"], ent=4.0)
rule("dropbox-access-token", "Dropbox short-lived access token", "high",
     r"\b(?P<secret>sl\.[A-Za-z0-9_\-]{130,160})(?:[^A-Za-z0-9_\-]|$)", ["sl."], ["DROPBOX_TOKEN=sl.B{b64u:138}"], ["sl.xxxx", "sl.no"], ent=4.0)
rule("contentful-pat", "Contentful personal access token", "high",
     r"\b(?P<secret>CFPAT-[A-Za-z0-9_\-]{43})(?:[^A-Za-z0-9_\-]|$)", ["cfpat-"], ["CONTENTFUL_MANAGEMENT_TOKEN=CFPAT-{b64u:43}"], ["CFPAT-xxxx", "CFPAT-"], ent=4.0)
rule("typeform-api-token", "Typeform personal access token", "high",
     r"\b(?P<secret>tfp_[A-Za-z0-9_\-.=]{59})", ["tfp_"], ["TYPEFORM_TOKEN=tfp_{b64u:59}"], ["tfp_xxxx", "tfp_"], ent=4.0)
rule("readme-api-key", "ReadMe API key", "high",
     r"\b(?P<secret>rdme_[a-z0-9]{70})\b", ["rdme_"], ["README_API_KEY=rdme_{a36l:70}"], ["rdme_xxxx", "rdme_"], ent=4.0)
rule("frameio-api-token", "Frame.io API token", "high",
     r"\b(?P<secret>fio-u-[A-Za-z0-9_\-=]{64})", ["fio-u-"], ["FRAMEIO_TOKEN=fio-u-{b64u:64}"], ["fio-u-xxxx", "fio-u-"], ent=4.0)
rule("shippo-api-token", "Shippo API token", "high",
     r"\b(?P<secret>shippo_(?:live|test)_[a-f0-9]{40})\b", ["shippo_"], ["SHIPPO_TOKEN=shippo_live_{hex:40}"], ["shippo_live_" + "0" * 40, "shippo_"], ent=3.0)
rule("easypost-api-key", "EasyPost API key", "high",
     r"\b(?P<secret>EZ[AT]K[A-Za-z0-9]{54})\b", ["ezak", "eztk"], ["EASYPOST_API_KEY=EZAK{a62:54}"], ["EZAKxxxx", "EZAK"], ent=4.0)
rule("duffel-api-token", "Duffel API token", "high",
     r"\b(?P<secret>duffel_(?:test|live)_[A-Za-z0-9_\-=]{43})", ["duffel_"], ["DUFFEL_TOKEN=duffel_live_{b64u:43}"], ["duffel_live_xxxx", "duffel_"], ent=4.0)
rule("adafruit-io-key", "Adafruit IO key", "medium",
     r"\b(?P<secret>aio_[A-Za-z0-9]{28})\b", ["aio_"], ["ADAFRUIT_IO_KEY=aio_{a62:28}"], ["aio_xxxxxxxxxxxxxxxxxxxxxxxxxxxx", "aio_http"], ent=3.8)
rule("age-secret-key", "age encryption secret key", "critical",
     r"\b(?P<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b", ["age-secret-key-1"], ["AGE-SECRET-KEY-1{bech:58}"], ["AGE-SECRET-KEY-1XXXX", "AGE-SECRET-KEY-1"], ent=4.0)
rule("onepassword-service-account-token", "1Password service account token", "critical",
     r"\b(?P<secret>ops_eyJ[A-Za-z0-9+/]{250,}={0,3})", ["ops_eyj"], ["OP_SERVICE_ACCOUNT_TOKEN=ops_eyJ{b64:300}"], ["ops_eyJxxxx", "ops_eyJ"], ent=4.0)
rule("firebase-cloud-messaging-key", "Firebase Cloud Messaging server key", "high",
     r"\b(?P<secret>AAAA[A-Za-z0-9_\-]{7}:APA91b[A-Za-z0-9_\-]{134})", ["apa91b"], ["FCM_SERVER_KEY=AAAA{b64u:7}:APA91b{b64u:134}"], ["AAAAxxxxxxx:APA91bxxxx", "APA91b"], ent=4.0)

# ---------------------------------------------------------------- private keys
NL = r"(?:\r?\n|(?:\\r)?\\n)"  # a newline, or an escaped one inside a JSON/YAML string
PEM = NL + r"(?:[A-Za-z\-]+:[^\r\n\\]*" + NL + r")*" + NL + r"?(?P<secret>[A-Za-z0-9+/=]{40,}(?:" + NL + r"[A-Za-z0-9+/=]{1,})*)" + NL + r"?"
def pem(label):
    return r"-----BEGIN " + label + r"-----" + PEM + r"-----END " + label + r"-----"
rule("rsa-private-key", "RSA private key (PEM)", "critical", pem("RSA PRIVATE KEY"), ["-----begin rsa private key-----"],
     ["{pem:RSA PRIVATE KEY}"], ["-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA{b64:40}\n-----END RSA PUBLIC KEY-----"], ent=4.0)
rule("ec-private-key", "EC private key (PEM)", "critical", pem("EC PRIVATE KEY"), ["-----begin ec private key-----"],
     ["{pem:EC PRIVATE KEY}"], ["-----BEGIN EC PRIVATE KEY-----\n<key>\n-----END EC PRIVATE KEY-----", "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----"], ent=4.0)
rule("dsa-private-key", "DSA private key (PEM)", "critical", pem("DSA PRIVATE KEY"), ["-----begin dsa private key-----"],
     ["{pem:DSA PRIVATE KEY}"], ["-----BEGIN DSA PRIVATE KEY-----\n-----END DSA PRIVATE KEY-----", "BEGIN DSA PRIVATE KEY"], ent=4.0)
rule("openssh-private-key", "OpenSSH private key", "critical", pem("OPENSSH PRIVATE KEY"), ["-----begin openssh private key-----"],
     ["{pem:OPENSSH PRIVATE KEY}"], ["-----BEGIN OPENSSH PRIVATE KEY-----\n(redacted)\n-----END OPENSSH PRIVATE KEY-----", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{b64:43} user@host"], ent=4.0)
rule("pgp-private-key", "PGP private key block", "critical", pem("PGP PRIVATE KEY BLOCK"), ["-----begin pgp private key block-----"],
     ["{pem:PGP PRIVATE KEY BLOCK}"], ["-----BEGIN PGP PUBLIC KEY BLOCK-----\nmQINBF{b64:60}\n-----END PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n-----END PGP PRIVATE KEY BLOCK-----"], ent=4.0)
rule("pkcs8-private-key", "PKCS #8 private key (PEM)", "critical", pem("PRIVATE KEY"), ["-----begin private key-----"],
     ["{pem:PRIVATE KEY}", "\"private_key\": \"-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC{b64:60}\\n{b64:64}\\n-----END PRIVATE KEY-----\\n\""],
     ["-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----", "-----BEGIN CERTIFICATE-----\nMIIDdzCCAl+gAwIBAgIE{b64:60}\n-----END CERTIFICATE-----"], ent=4.0)
rule("encrypted-private-key", "Encrypted private key (PKCS #8, PEM)", "medium", pem("ENCRYPTED PRIVATE KEY"), ["-----begin encrypted private key-----"],
     ["{pem:ENCRYPTED PRIVATE KEY}"], ["-----BEGIN ENCRYPTED PRIVATE KEY-----\n...\n-----END ENCRYPTED PRIVATE KEY-----", "ENCRYPTED PRIVATE KEY"], ent=4.0)
rule("putty-private-key", "PuTTY private key file", "critical",
     r"(?s)PuTTY-User-Key-File-[23]: [^\r\n]+\r?\nEncryption: [^\r\n]+\r?\nComment: [^\r\n]*\r?\nPublic-Lines: \d+\r?\n.{0,2000}?Private-Lines: \d+\r?\n(?P<secret>[A-Za-z0-9+/=]{40,}(?:\r?\n[A-Za-z0-9+/=]+)*)",
     ["putty-user-key-file-"],
     ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAI{b64:40}\n{b64:20}\nPrivate-Lines: 1\nAAAAI{b64:40}\nPrivate-MAC: {hex:64}"],
     ["PuTTY-User-Key-File-3: ssh-ed25519", "PuTTY-User-Key-File-2 format notes"], ent=4.0, multiline=True)

# ---------------------------------------------------------------- tokens & Kubernetes
JWT = r"eyJ[A-Za-z0-9_\-]{10,}={0,2}\.eyJ[A-Za-z0-9_\-]{10,}={0,2}\.[A-Za-z0-9_\-]{10,}={0,2}"
rule("jwt", "JSON Web Token", "medium",
     r"(?:^|[^A-Za-z0-9_\-.])(?P<secret>" + JWT + r")(?:[^A-Za-z0-9_\-.=]|$)", ["eyj"],
     ["Authorization: Bearer {jwt}"], ["eyJhbGciOiJub25lIn0.e30.", "token = \"eyJhbGci.eyJzdWIi.sig\""], ent=4.0,
     allow={"regexes": [r"^eyJhbGciOiJub25lI"]}, generic=True)
rule("kubernetes-service-account-token", "Kubernetes service-account token (legacy secret-based JWT)", "critical",
     r"(?:^|[^A-Za-z0-9_\-.])(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50I[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,})", ["eyjpc3mioijrdwjlcm5ldgvzl3nlcnzpy2vhy2nvdw50i"],
     ["token: {k8sjwt}"], ["eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50Ii.sig", "kubernetes/serviceaccount"], ent=4.0)
rule("kubernetes-bound-service-account-token", "Kubernetes bound service-account token (projected JWT)", "high",
     r"(?:^|[^A-Za-z0-9_\-.])(?P<secret>eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]*?(?:Imt1YmVybmV0ZXMuaW8i|JrdWJlcm5ldGVzLmlvI|ia3ViZXJuZXRlcy5pbyI)[A-Za-z0-9_\-]*\.[A-Za-z0-9_\-]{20,})",
     ["imt1ymvybmv0zxmuaw8i", "jrdwjlcm5ldgvzlmlvi", "ia3vizxjuzxrlcy5pbyi"],
     ["token: {k8sboundjwt}"], ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlc2lnbmF0dXJl", "kubernetes.io/service-account-token"], ent=4.0)
rule("kubeconfig-client-key", "Client private key embedded in a kubeconfig (client-key-data)", "critical",
     r"""(?m)\bclient-key-data:\s*['"]?(?P<secret>[A-Za-z0-9+/]{64,}={0,2})""", ["client-key-data"],
     ["users:\n- name: admin\n  user:\n    client-key-data: {b64pem}"], ["    client-key-data: REDACTED", "    client-key-data: ${CLIENT_KEY}"], ent=4.0)
rule("kubeconfig-user-token", "Bearer token of a kubeconfig user", "high",
     r"""(?s)\busers:\s*\r?\n.{0,1000}?\buser:\s*\r?\n(?:[ \t]+[\w-]+:[^\r\n]*\r?\n){0,12}?[ \t]+token:\s*['"]?(?P<secret>[A-Za-z0-9._~+/=\-]{20,})""", ["users:"],
     ["apiVersion: v1\nkind: Config\nusers:\n- name: ci\n  user:\n    token: {a62:12}.{b64u:40}"], ["users:\n- name: ci\n  user:\n    token: REDACTED", "users:\n- name: ci\n  user:\n    tokenFile: /var/run/token"], ent=3.5, multiline=True)
rule("kubeadm-bootstrap-token", "Kubernetes bootstrap (kubeadm join) token", "high",
     r"""(?i)(?:--token|--discovery-token|token-id\.token-secret|bootstrap[\w.\-]{0,10}token)[\s=:'"]+(?P<secret>[a-z0-9]{6}\.[a-z0-9]{16})\b""", ["--token", "--discovery-token", "bootstrap"],
     ["kubeadm join 10.0.0.10:6443 --token {a36l:6}.{a36l:16} --discovery-token-ca-cert-hash sha256:{hex:64}"], ["kubeadm join --token abcdef.0123456789abcdef", "kubeadm token create"], ent=3.0,
     allow={"stopwords": ["abcdef.0123456789abcdef"]})

# ---------------------------------------------------------------- databases & URIs
URI_PW = r"""(?P<secret>[^@/\s'"<>{}$%]{3,128})@[A-Za-z0-9._\-\[\]:]+"""
URI_ALLOW = {"regexes": [r"^(?i:pass(?:word)?|passwd|pwd|secret|changeme|example|test|xxx+|dummy|placeholder|your[_-]?password|mypassword|user(?:name)?|root|admin|\*+|\.\.\.)$"]}
rule("postgres-connection-uri", "PostgreSQL connection URI with a password", "high",
     r"(?i)\bpostgres(?:ql)?(?:\+[a-z0-9]+)?://[^:@/\s'\"]+:" + URI_PW, ["postgres"],
     ["DATABASE_URL=postgres://app:{a62:16}@db.internal:5432/app", "url = \"postgresql+psycopg://svc:{a62:20}@10.0.3.4/orders\""],
     ["DATABASE_URL=postgres://user:password@localhost:5432/db", "postgres://app:${DB_PASSWORD}@db/app"], allow=URI_ALLOW)
rule("mysql-connection-uri", "MySQL / MariaDB connection URI with a password", "high",
     r"(?i)\b(?:mysql|mariadb)(?:\+[a-z0-9]+)?://[^:@/\s'\"]+:" + URI_PW, ["mysql", "mariadb"],
     ["DATABASE_URL=mysql://shop:{a62:18}@mysql.prod:3306/shop"], ["mysql://root:root@localhost/test", "mysql://user:<password>@host/db"], allow=URI_ALLOW)
rule("mongodb-connection-uri", "MongoDB connection URI with a password", "high",
     r"(?i)\bmongodb(?:\+srv)?://[^:@/\s'\"]+:" + URI_PW, ["mongodb"],
     ["MONGO_URL=mongodb+srv://api:{a62:24}@cluster0.ab1cd.mongodb.net/prod"], ["mongodb://user:pass@localhost:27017", "mongodb://localhost:27017/test"], allow=URI_ALLOW)
rule("redis-connection-uri", "Redis connection URI with a password", "high",
     r"(?i)\brediss?://[^:@/\s'\"]*:" + URI_PW, ["redis"],
     ["REDIS_URL=redis://default:{a62:32}@redis-12345.cache.example.net:6379"], ["redis://:password@localhost:6379/0", "redis://localhost:6379"], allow=URI_ALLOW)
rule("amqp-connection-uri", "AMQP (RabbitMQ) connection URI with a password", "high",
     r"(?i)\bamqps?://[^:@/\s'\"]+:" + URI_PW, ["amqp"],
     ["BROKER_URL=amqp://worker:{a62:20}@rabbitmq.prod:5672/vhost"], ["amqp://guest:guest@localhost:5672//", "amqp://localhost"], allow={"regexes": URI_ALLOW["regexes"] + ["^guest$"]})
rule("jdbc-connection-password", "JDBC / SQL Server connection string with a password", "high",
     r"""(?i)\b(?:jdbc:[a-z0-9]+:[^\s'"]*?[;?&]|(?:Server|Data Source)=[^;'"\n]{1,200};[^'"\n]{0,300}?)(?:password|pwd)=(?P<secret>[^;&'"\s]{4,128})""", ["jdbc:", "server=", "data source="],
     ["jdbc:sqlserver://db.prod:1433;databaseName=app;user=app;password={a62:18};", "Server=tcp:sql.prod,1433;Database=app;User Id=app;Password={a62:20};"],
     ["jdbc:sqlserver://localhost;user=sa;password=<YourStrong@Passw0rd>;", "Server=.;Database=app;Trusted_Connection=True;"], allow=URI_ALLOW)
rule("uri-credentials", "Credentials in an FTP, SMTP, LDAP, IMAP or SFTP URI", "high",
     r"(?i)\b(?:s?ftp|ftps|smtps?|ldaps?|imaps?|pop3s?)://[^:@/\s'\"]+:" + URI_PW, ["ftp://", "smtp", "ldap", "imap", "pop3"],
     ["EMAIL_URL=smtp://mailer:{a62:16}@smtp.example.net:587"], ["ftp://anonymous:anonymous@ftp.example.org/", "smtp://user:password@localhost"], allow={"regexes": URI_ALLOW["regexes"] + ["^anonymous$"]})
rule("http-basic-auth-uri", "Credentials in an HTTP(S) URL", "medium",
     r"(?i)\bhttps?://[A-Za-z0-9._%\-]{1,64}:" + URI_PW, ["http"],
     ["pip install --index-url https://deploy:{a62:24}@pypi.internal.example.com/simple app"],
     ["https://user:pass@example.com", "http://localhost:8080/path"], ent=3.5, allow=URI_ALLOW)
rule("netrc-password", "Password in a .netrc file", "high",
     r"""(?m)\bmachine\s+\S+\s+(?:login\s+\S+\s+)?password\s+(?P<secret>[^\s'"]{6,})""", ["machine"],
     ["machine api.example.com login deploy password {a62:20}"], ["machine example.com login user password <password>", "machine learning password strength"], ent=3.0,
     allow=URI_ALLOW, multiline=True)

# ---------------------------------------------------------------- frameworks & headers
rule("django-secret-key", "Django SECRET_KEY", "high",
     r"""\bSECRET_KEY\s*=\s*['"](?P<secret>[^'"\s]{40,100})['"]""", ["secret_key"],
     ["SECRET_KEY = 'django-insecure-{djsecret}'"], ["SECRET_KEY = os.environ['SECRET_KEY']", "SECRET_KEY = 'change-me-to-a-long-random-string-in-production'"], ent=4.0)
rule("rails-secret-key-base", "Rails secret_key_base", "high",
     r"""(?i)\bsecret_key_base['"]?\s*[:=]\s*['"]?(?P<secret>[a-f0-9]{64,256})\b""", ["secret_key_base"],
     ["production:\n  secret_key_base: {hex:128}"], ["secret_key_base: <%= ENV[\"SECRET_KEY_BASE\"] %>", "secret_key_base: " + "0" * 128], ent=3.0)
rule("laravel-app-key", "Laravel APP_KEY", "high",
     r"\bAPP_KEY\s*=\s*['\"]?base64:(?P<secret>[A-Za-z0-9+/]{43}=)", ["app_key"], ["APP_KEY=base64:{b64:43}="], ["APP_KEY=", "APP_KEY=base64:SomeRandomString"], ent=4.0)
rule("symfony-app-secret", "Symfony APP_SECRET", "medium",
     r"\bAPP_SECRET\s*=\s*['\"]?(?P<secret>[a-f0-9]{32})\b", ["app_secret"], ["APP_SECRET={hex:32}"], ["APP_SECRET=ThisTokenIsNotSoSecretChangeIt", "APP_SECRET=" + "0" * 32], ent=3.0)
rule("wireguard-private-key", "WireGuard private key", "critical",
     r"(?m)^\s*PrivateKey\s*=\s*(?P<secret>[A-Za-z0-9+/]{42}[AEIMQUYcgkosw480]=)", ["privatekey"],
     ["[Interface]\nAddress = 10.8.0.2/24\nPrivateKey = {wgkey}"], ["[Interface]\nPrivateKey = <private key>", "PublicKey = {wgkey}"], ent=4.0)
rule("basic-auth-header", "HTTP Basic Authorization header", "medium",
     r"""(?i)\bauthorization['"]?\s*[:=,]\s*['"]?basic\s+(?P<secret>[A-Za-z0-9+/]{12,}={0,2})""", ["authorization"],
     ["curl -H 'Authorization: Basic {basicauth}' https://api.example.com"], ["Authorization: Basic <credentials>", "Authorization: Basic dXNlcjpwYXNzd29yZA=="], ent=3.5,
     allow={"stopwords": ["dxnlcjpwyxnzd29yza", "zxhhbxbszt"]}, generic=True)
rule("bearer-token-header", "Bearer token in an HTTP Authorization header", "medium",
     r"""(?i)\bauthorization['"]?\s*[:=,]\s*['"]?bearer\s+(?P<secret>[A-Za-z0-9._~+/\-]{24,}={0,2})""", ["authorization"],
     ["curl -H \"Authorization: Bearer {a62:40}\" https://api.example.com/v1/me"], ["Authorization: Bearer $TOKEN", "Authorization: Bearer <your-token-here>"], ent=4.0, generic=True)
rule("curl-user-credentials", "Password passed to curl with -u / --user", "medium",
     r"""\bcurl\b[^\n]{0,200}?\s(?:-u|--user)[\s=]+['"]?[^:\s'"]{1,64}:(?P<secret>[^\s'"@]{6,128})""", ["curl"],
     ["curl -u deploy:{a62:20} https://artifacts.example.com/upload"], ["curl -u user:password https://example.com", "curl -u \"$USER:$PASS\" https://x"], ent=3.0, allow=URI_ALLOW)

# ---------------------------------------------------------------- generic
GEN_ALLOW = {
    "regexes": [
        r"^[A-Za-z_.\-/~]+$",          # words, identifiers and paths: no digits
        r"^0x[0-9A-Fa-f]+$",           # hex literals
        r"^[0-9.\-]+$",                # numbers, versions
        r"^[a-f0-9]{40}$", r"^[a-f0-9]{64}$", r"^[a-f0-9]{128}$",  # digests (hashes are not secrets)
        r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",  # UUIDs alone are identifiers
        r"^(?:sha(?:1|256|384|512)|md5)[-:]",  # integrity strings
        r"^(?:https?|file)://", r"^/", r"^\./", r"\.(?:py|js|ts|go|rs|java|rb|yaml|yml|json|txt|md|html|css|png|jpg|svg)$",
        r"^\$", r"^%\(", r"^\{", r"^<", r"^os\.", r"^env\.", r"^process\.env", r"^settings\.", r"^config\.", r"^self\.", r"^this\.",
    ],
    "stopwords": ["token_type", "tokenizer", "password_hash", "secret_name", "secretkeyref", "keyring", "public"],
    "line_regexes": [
        r"(?i)(?:next|page|pagination|continuation|marker|cursor|idempotency|client[_\-]?request|csrf|xsrf|sync|change)[_\-]?token",
        r"(?i)token[_\-]?(?:type|url|uri|endpoint|id|name|count|ttl|expir\w*|length|file|path)['\"]?\s*[:=]",
        r"(?i)(?:key|secret)[_\-]?(?:id|name|arn|ref|version|length|size|file|path|type|spec)['\"]?\s*[:=]",
    ],
}
rule("generic-secret-assignment", "A high-entropy value assigned to a secret-like name (quoted)", "medium",
     r"""(?i)(?:api[_.\-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|client[_.\-]?secret|credential)s?[\w\-]{0,20}['"]?\s{0,3}(?:=|:=|:|=>|\|\|=|\?\?=)\s{0,3}['"\x60](?P<secret>[A-Za-z0-9_\-+/=.~!@#%^&*]{16,128})['"\x60]""",
     ["key", "secret", "token", "passw", "pwd", "credential"],
     ["config.api_key = \"{a62:32}\"", "const clientSecret = '{b64u:40}';"],
     ["api_key = \"your-api-key-goes-here\"", "token = \"0123456789abcdef0123456789abcdef01234567\"", "password = \"correct-horse-battery\""],
     ent=3.7, allow=GEN_ALLOW, generic=True)
rule("generic-secret-env", "A high-entropy value assigned to a secret-like name (.env, YAML, properties)", "medium",
     r"""(?im)(?:api[_.\-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_.\-]?key|auth[_.\-]?key|private[_.\-]?key|client[_.\-]?secret|credential)s?[\w.\-]{0,20}[ \t]*[:=][ \t]*(?P<secret>[A-Za-z0-9_\-+/=.~!@#%^&*]{16,128})[ \t]*\r?$""",
     ["key", "secret", "token", "passw", "pwd", "credential"],
     ["DB_PASSWORD={a62:24}", "  apiToken: {b64u:32}"],
     ["DB_PASSWORD=${DB_PASSWORD}", "SECRET_NAME=my-app-secret-name", "TOKEN_URL=https://auth.example.com/token"],
     ent=3.7, allow=GEN_ALLOW, generic=True)
