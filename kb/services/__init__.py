"""Every change to the knowledge base.

One function per state change (create, update, publish, unpublish, delete, restore a revision),
called by views, the demo command, tasks and tests alike; the search index hooks in here.
"""

from helpdesk.services import ServiceError  # noqa: F401
from kb.services.articles import (  # noqa: F401
    MAX_BODY,
    MAX_SUMMARY,
    MAX_TAG_LENGTH,
    MAX_TAGS,
    MAX_TITLE,
    MAX_VERSIONS,
    create_article,
    create_category,
    delete_article,
    delete_category,
    parse_tags,
    publish_article,
    restore_revision,
    unpublish_article,
    update_article,
    update_category,
)
from kb.services.images import sniff_image, upload_image  # noqa: F401
from kb.services.readers import (  # noqa: F401
    FOLLOW_WINDOW,
    MAX_COMMENT,
    flush_view_counts,
    mark_suggestions_followed,
    record_feedback,
    record_suggestion_open,
    record_view,
)
