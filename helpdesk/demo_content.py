"""Help-centre content for the demo (and the search relevance set): articles and community
threads about a fictional SaaS product, written like a real help centre."""

ARTICLES = [
    # (category, title, summary, body)
    (
        "start",
        "Invite teammates to your workspace",
        "Add colleagues and choose their role.",
        "Open **Settings → Team** and choose *Invite*. Enter one email address per line. Each invitee gets a link that works for seven days.\n\nPick a role: *Member* can work tickets, *Owner* can also manage billing and delete the workspace.",
    ),
    (
        "start",
        "Keyboard shortcuts",
        "Work faster without the mouse.",
        "Press `?` anywhere to see every shortcut.\n\n| key | action |\n|:--|:--|\n| j / k | next / previous ticket |\n| r | reply |\n| g q | go to the queue |",
    ),
    (
        "start",
        "Import tickets from another help desk",
        "Move your history from Zendesk, Freshdesk or a CSV file.",
        "Imports keep requesters, timestamps and attachments.\n\n1. Export your old tickets as CSV or JSON.\n2. Open **Settings → Import** and upload the file.\n3. Map the columns; we preview the first ten tickets before anything is written.",
    ),
    (
        "start",
        "Set up the mobile app notifications",
        "Push notifications on iOS and Android.",
        "Install the app, sign in, and allow notifications. You can mute a queue or only get alerts for tickets assigned to you under **Profile → Notifications**.",
    ),
    (
        "account",
        "Set up two-factor authentication",
        "Protect your account with a one-time code.",
        "Open **Profile → Security** and choose *Enable two-factor authentication*. Scan the QR code with an authenticator app such as 1Password or Google Authenticator, then type the six-digit code.\n\nKeep the recovery codes somewhere safe: they are the only way in if you lose your phone.",
    ),
    (
        "account",
        "Troubleshoot login problems",
        "Wrong password, locked account, codes not accepted.",
        "If sign-in fails:\n\n- Check caps lock and that you use the email you signed up with.\n- After five failed attempts the account is locked for 15 minutes.\n- Two-factor codes depend on your phone's clock: turn on automatic time.\n- Still stuck? Use a recovery code or reset your password.",
    ),
    (
        "account",
        "Delete your account",
        "Remove your account and personal data.",
        "Owners can delete the whole workspace under **Settings → Danger zone**. Deleting is permanent after a 14-day grace period, during which you can restore everything.",
    ),
    (
        "billing",
        "Change your billing plan",
        "Upgrade, downgrade or switch to yearly billing.",
        "Open **Settings → Billing → Plan**. Upgrades apply at once and are prorated; downgrades apply at the end of the billing period. Yearly billing saves two months.",
    ),
    (
        "billing",
        "Download invoices and receipts",
        "PDF invoices with your VAT number.",
        "Every invoice is under **Settings → Billing → Invoices** as a PDF. Add your company's VAT number and address before the next invoice is issued; past invoices can be re-issued on request.",
    ),
    (
        "billing",
        "Refunds and cancellations",
        "When we refund and how to cancel.",
        "You can cancel any time; the plan stays active until the end of the period. We refund annual plans pro rata within 30 days of renewal.",
    ),
    (
        "dev",
        "Receive events with webhooks",
        "Get an HTTP POST when tickets change.",
        "Create a webhook under **Settings → Developers**. We send a JSON payload signed with HMAC-SHA256 in the `X-Signature` header.\n\n```python\nimport hashlib, hmac\n\ndef verify(secret: bytes, body: bytes, signature: str) -> bool:\n    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()\n    return hmac.compare_digest(expected, signature)\n```\n\nFailed deliveries are retried with exponential backoff for 24 hours.",
    ),
    (
        "dev",
        "API rate limits",
        "How many requests you can make.",
        "The API allows 600 requests per minute per token. Over the limit you get **429 Too Many Requests** with a `Retry-After` header; wait that many seconds before retrying.",
    ),
    (
        "dev",
        "Configure single sign-on with SAML",
        "Okta, Azure AD and Google Workspace.",
        "Single sign-on (SSO) is available on the Business plan. Upload your identity provider's metadata XML under **Settings → Security → SAML**, then test with one account before enforcing SSO for everyone.",
    ),
    (
        "dev",
        "Connect your email inbox with IMAP",
        "Turn support emails into tickets.",
        "Add a mailbox under **Settings → Channels → Email**: host, port 993, SSL, username and an app password. Messages are fetched every 30 seconds and marked as seen once stored.",
    ),
    (
        "dev",
        "Use a custom domain with TLS",
        "help.example.com with your own certificate.",
        "Point a CNAME record for your help centre domain to `cname.frontline.example`. We issue a Let's Encrypt certificate automatically within a few minutes of the DNS change.",
    ),
    (
        "dev",
        "Export your data to CSV",
        "Tickets, customers and time logs.",
        "Open any list, filter it, then choose **Export → CSV**. Exports include custom fields and are emailed to you as a download link when they are larger than 10,000 rows.",
    ),
]

THREADS = [
    # (category, author, title, body, replies[(author, body)])
    (
        "questions",
        "dev",
        "Webhook retries after a timeout?",
        "Our endpoint sometimes takes 20 seconds. Do you retry webhooks, and how often?",
        [
            ("mia", "I think they retry, we saw duplicates once."),
            (
                "alex",
                "Yes: failed deliveries are retried with exponential backoff for 24 hours. Make your handler idempotent using the `X-Event-Id` header.",
            ),
        ],
    ),
    (
        "questions",
        "carla",
        "SAML login loops back to the sign-in page",
        "After I enabled SSO with Okta, users end up on the sign-in page again. Any idea?",
        [
            (
                "sam",
                "This usually means the clock on the identity provider is off or the ACS URL is wrong. Check the assertion consumer service URL in Okta matches the one in **Settings → Security**.",
            )
        ],
    ),
    (
        "questions",
        "mia",
        "CSV export missing custom fields",
        "My ticket export does not contain our custom field 'Contract ID'.",
        [
            ("dev", "Same here until I added the field to the list view columns."),
            (
                "alex",
                "Exports include the columns of the current view; add the custom field as a column first.",
            ),
        ],
    ),
    (
        "questions",
        "dev",
        "Getting 429 errors from a small script",
        "I only send a few requests but get 429 Too Many Requests.",
        [
            (
                "sam",
                "Check whether several scripts share one API token: the limit of 600 per minute is per token.",
            )
        ],
    ),
    (
        "questions",
        "carla",
        "Two-factor codes not accepted after changing phones",
        "I moved to a new phone and my authenticator codes are rejected.",
        [
            (
                "alex",
                "Use one of your recovery codes to sign in, then set up two-factor authentication again on the new phone.",
            )
        ],
    ),
    (
        "ideas",
        "carla",
        "Bulk close old tickets from the list",
        "It would be great to close hundreds of stale tickets at once.",
        [],
    ),
    (
        "ideas",
        "dev",
        "Slack notifications for urgent tickets",
        "Post urgent tickets to a Slack channel automatically.",
        [],
    ),
]

# Queries a person would type, and the title that should come first (anonymous visitor).
RELEVANCE = [
    ("invite colleagues", "Invite teammates to your workspace"),
    ("add teammate", "Invite teammates to your workspace"),
    ("keyboard shortcuts", "Keyboard shortcuts"),
    ("shortcut", "Keyboard shortcuts"),
    ("import from zendesk", "Import tickets from another help desk"),
    ("migrate tickets csv import", "Import tickets from another help desk"),
    ("push notifications android", "Set up the mobile app notifications"),
    ("two-factor", "Set up two-factor authentication"),
    ("authenticator app qr code", "Set up two-factor authentication"),
    ("account locked", "Troubleshoot login problems"),
    ("cannot log in", "Troubleshoot login problems"),
    ("delete account", "Delete your account"),
    ("upgrade plan", "Change your billing plan"),
    ("yearly billing", "Change your billing plan"),
    ("invoice pdf", "Download invoices and receipts"),
    ("VAT number invoice", "Download invoices and receipts"),
    ("refund", "Refunds and cancellations"),
    ("cancel subscription", "Refunds and cancellations"),
    ("webhook signature", "Receive events with webhooks"),
    ("webhook retries", "Webhook retries after a timeout?"),
    ("rate limit", "API rate limits"),
    ("429 too many requests", "API rate limits"),
    ("saml sso", "Configure single sign-on with SAML"),
    ("okta login loop", "SAML login loops back to the sign-in page"),
    ("imap mailbox", "Connect your email inbox with IMAP"),
    ("custom domain certificate", "Use a custom domain with TLS"),
    ("export csv", "Export your data to CSV"),
    ("custom fields missing in export", "CSV export missing custom fields"),
    ("reset password", "Reset your password"),
    ("api token authorization header", "Authenticate API requests"),
    ("install", "Install Frontline"),
    ("stack trace indentation", "How do I paste a stack trace so it stays readable?"),
    ("codes rejected new phone", "Two-factor codes not accepted after changing phones"),
    ("dark mode", "Dark mode for the agent queue"),
]
