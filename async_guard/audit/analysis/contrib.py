"""django.contrib's models, as the facts their files would give: a built-in table.

A project's code names ``User``, ``Group``, ``Permission``, ``ContentType``,
``Site``, ``Session`` and ``LogEntry`` without the audited tree holding Django's
own source. The project index starts from these facts (they win over a copy of
Django's files in the tree, so an answer never depends on whether those were
read). Their relation fields give the reverse accessors Django adds:
``group.user_set``, ``user.logentry_set``, ``content_type.permission_set``...
Django's abstract bases (``AbstractUser``, ``AbstractBaseUser``,
``PermissionsMixin``) make a project's own user model a model, with their fields.
"""

from __future__ import annotations

from async_guard.audit.analysis.django_names import USER_MODEL_REF
from async_guard.audit.analysis.file_facts import FileFacts

MODEL = "django.db.models.Model"
AUTH = "django.contrib.auth.models"
BASE_USER = "django.contrib.auth.base_user"
CONTENT_TYPE = "django.contrib.contenttypes.models.ContentType"

#: module -> class -> (bases, abstract, plain fields, relation fields (name, kind, target,
#: related_name), managers (name, manager class)).
_Table = dict[
    str,
    dict[
        str,
        tuple[
            tuple[str, ...],
            bool,
            tuple[str, ...],
            tuple[tuple[str, str, str, str | None], ...],
            tuple[tuple[str, str], ...],
        ],
    ],
]
TABLE: _Table = {
    BASE_USER: {
        "AbstractBaseUser": ((MODEL,), True, ("password", "last_login"), (), ()),
        "BaseUserManager": (("django.db.models.Manager",), False, (), (), ()),
    },
    AUTH: {
        "AbstractBaseUser": ((MODEL,), True, ("password", "last_login"), (), ()),
        "PermissionsMixin": (
            (MODEL,), True, ("is_superuser",),
            (("groups", "m2m", f"{AUTH}.Group", "user_set"),
             ("user_permissions", "m2m", f"{AUTH}.Permission", "user_set")),
            (),
        ),
        "AbstractUser": (
            (f"{BASE_USER}.AbstractBaseUser", f"{AUTH}.PermissionsMixin"), True,
            ("username", "first_name", "last_name", "email", "is_staff", "is_active",
             "date_joined"),
            (), (("objects", f"{AUTH}.UserManager"),),
        ),
        "User": ((f"{AUTH}.AbstractUser",), False, (), (), ()),
        "Group": (
            (MODEL,), False, ("name",),
            (("permissions", "m2m", f"{AUTH}.Permission", None),),
            (("objects", f"{AUTH}.GroupManager"),),
        ),
        "Permission": (
            (MODEL,), False, ("name", "codename"),
            (("content_type", "fk", CONTENT_TYPE, None),),
            (("objects", f"{AUTH}.PermissionManager"),),
        ),
        "UserManager": ((f"{BASE_USER}.BaseUserManager",), False, (), (), ()),
    },
    "django.contrib.contenttypes.models": {
        "ContentType": (
            (MODEL,), False, ("app_label", "model"), (),
            (("objects", "django.contrib.contenttypes.models.ContentTypeManager"),),
        ),
    },
    "django.contrib.sites.models": {
        "Site": (
            (MODEL,), False, ("domain", "name"), (),
            (("objects", "django.contrib.sites.models.SiteManager"),),
        ),
    },
    "django.contrib.sessions.models": {
        "Session": (
            ("django.contrib.sessions.base_session.AbstractBaseSession",), False, (), (),
            (("objects", "django.contrib.sessions.models.SessionManager"),),
        ),
    },
    "django.contrib.sessions.base_session": {
        "AbstractBaseSession": (
            (MODEL,), True, ("session_key", "session_data", "expire_date"), (), (),
        ),
    },
    "django.contrib.admin.models": {
        "LogEntry": (
            (MODEL,), False,
            ("action_time", "object_id", "object_repr", "action_flag", "change_message"),
            (("user", "fk", USER_MODEL_REF, None), ("content_type", "fk", CONTENT_TYPE, None)),
            (("objects", "django.contrib.admin.models.LogEntryManager"),),
        ),
    },
}  # fmt: skip


def contrib_facts() -> list[FileFacts]:
    """The table, as the facts of one file per module."""
    out: list[FileFacts] = []
    for module, classes in TABLE.items():
        facts = FileFacts(module=module, path=f"<{module}>")
        for name, (bases, abstract, fields, relations, managers) in classes.items():
            qualname = f"{module}.{name}"
            facts.classes[qualname] = bases
            if abstract:
                facts.abstract.add(qualname)
            declared = {field: "field" for field in fields}
            for field, kind, target, related_name in relations:
                declared[field] = kind
                facts.relations.setdefault(qualname, {})[field] = (kind, target, related_name)
            if declared:
                facts.fields[qualname] = declared
            for attr, manager in managers:
                facts.managers.setdefault(qualname, {})[attr] = (manager,)
        out.append(facts)
    return out
