from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.utils import timezone

from sensorgrid.tenancy.models import Membership, Organization, Role, User
from sensorgrid.tenancy.scoping import Action, TenantQuerySet, organization_ids


class TenantAdmin(admin.ModelAdmin):
    """Admin scoped like the API: staff see their organizations, owners change them.

    Superusers see everything. Tenancy, not Django's per-model permissions, decides
    what a staff member may do, so nobody has to hand out permissions per model.
    """

    #: Relations that may point at anything the user can *see* (shared catalogues);
    #: every other tenant relation must point at something the user may change.
    visible_relations: tuple[str, ...] = ()

    def get_queryset(self, request):
        return self.model._default_manager.for_user(request.user, Action.VIEW)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return self.has_module_permission(request) and bool(
            organization_ids(request.user, Action.CHANGE)
        )

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_module_permission(request) and self.model._default_manager.can(
            request.user, Action.CHANGE, obj
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_change_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        queryset = db_field.related_model._default_manager.all()
        if isinstance(queryset, TenantQuerySet):
            action = Action.VIEW if db_field.name in self.visible_relations else Action.CHANGE
            kwargs["queryset"] = queryset.for_user(request.user, action)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        queryset = db_field.related_model._default_manager.all()
        if isinstance(queryset, TenantQuerySet):
            kwargs["queryset"] = queryset.for_user(request.user, Action.CHANGE)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not self.model._default_manager.can(request.user, Action.CHANGE, obj):
            raise PermissionDenied("Only owners of the organization may change it.")


SELF_GRANT = "Nobody grants themselves a role: another owner (or an operator) must do it."
DIRECT_MEMBERSHIP = (
    "Nobody is made a member without accepting: invite by e-mail from the organization's "
    "page in the dashboard. Only operators add, hand over or move memberships here."
)
LAST_OWNER = "An organization needs at least one owner; appoint another owner first."


class MembershipForm(forms.ModelForm):
    """A member is named by exact username, as in the API.

    Staff cannot browse the user list (no autocomplete over every account), and nobody
    but a superuser creates or changes a membership of himself. Owners who are staff
    change a member's role only: adding somebody, handing a membership to another user or
    moving it to another organization is an operator's (superuser's) action, as in the
    API; owners invite (the member must accept).
    """

    user = forms.ModelChoiceField(
        queryset=User.objects.filter(is_active=True),
        to_field_name="username",
        widget=forms.TextInput,
        help_text="Exact username of an existing, active user.",
        error_messages={"invalid_choice": "No active user has this username."},
    )

    class Meta:
        model = Membership
        fields = ["user", "organization", "role"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # the text box shows the username, not the id
            self.initial["user"] = self.instance.user.username
        actor = getattr(self, "actor", None)
        if actor is not None and not actor.is_superuser:
            # Posted values are ignored: the member and the organization stay as they are.
            for name in ("user", "organization"):
                if name in self.fields:
                    self.fields[name].disabled = True

    def clean(self):
        data = super().clean()
        actor = getattr(self, "actor", None)
        if actor is not None and not actor.is_superuser:
            if not self.instance.pk:  # has_add_permission refuses first; never by a form
                raise ValidationError(DIRECT_MEMBERSHIP)
            members = {data.get("user"), self.instance.user if self.instance.pk else None}
            if actor in members:
                raise ValidationError(SELF_GRANT)
        instance = self.instance
        if instance.pk and instance.role == Role.OWNER:
            moved = data.get("organization", instance.organization) != instance.organization
            demoted = data.get("role", Role.OWNER) != Role.OWNER
            if (moved or demoted) and owners_left_without([instance]):
                raise ValidationError(LAST_OWNER)
        return data


def owners_left_without(memberships) -> list[str]:
    """Organizations that would have no active owner once ``memberships`` are gone."""
    ids = {m.organization_id for m in memberships if m.role == Role.OWNER}
    leaving = {m.pk for m in memberships}
    remaining = (
        Organization.objects.filter(pk__in=ids)
        .annotate(
            n=Count(
                "memberships",
                filter=Q(memberships__role=Role.OWNER, memberships__user__is_active=True)
                & ~Q(memberships__pk__in=leaving),
            )
        )
        .filter(n=0)
    )
    return [org.name for org in remaining]


def without_owner(organization_ids) -> bool:
    """Whether one of these organizations has no active owner (now, in this transaction)."""
    owned = Membership.objects.filter(
        organization_id__in=organization_ids, role=Role.OWNER, user__is_active=True
    ).values_list("organization_id", flat=True)
    return bool(set(organization_ids) - set(owned))


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        remaining = []
        for form in self.forms:
            if not hasattr(form, "cleaned_data") or not form.cleaned_data:
                continue
            if form.cleaned_data.get("DELETE"):
                continue
            remaining.append(form.cleaned_data)
        if self.instance.pk and not any(
            row.get("role") == Role.OWNER and row.get("user") and row["user"].is_active
            for row in remaining
        ):
            raise ValidationError(LAST_OWNER)


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    formset = MembershipFormSet
    extra = 0

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = type("ActorMembershipForm", (formset.form,), {"actor": request.user})
        return formset

    def has_add_permission(self, request, obj=None) -> bool:
        # Owners invite (the person must accept); operators add directly.
        return request.user.is_active and request.user.is_superuser


class ReadOnlyTenantAdmin(TenantAdmin):
    """Rows the platform writes (receptions, health history): looked at, never edited."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(TenantAdmin):
    list_display = ["name", "slug", "suspended_at", "created_at"]
    list_filter = [("suspended_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["suspended_at"]
    inlines = [MembershipInline]
    actions = ["suspend", "unsuspend"]

    def has_add_permission(self, request) -> bool:
        # A new organization has no owner yet; administrators create them.
        return request.user.is_superuser

    def has_suspend_permission(self, request) -> bool:
        # Operators only: an owner must not lift his own organization's suspension.
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        if not change:
            return super().save_model(request, obj, form, change)
        if not self.model._default_manager.can(request.user, Action.CHANGE, obj):
            raise PermissionDenied("Only owners of the organization may change it.")
        # The changed fields only: suspended_at is the actions' (_set_suspended); a whole
        # save of an edit loaded before a suspension would lift it.
        obj.save(update_fields=[name for name in form.changed_data if name != "suspended_at"])

    @admin.action(description="Suspend (refuse their devices)", permissions=["suspend"])
    def suspend(self, request, queryset):
        _set_suspended(self, request, queryset, timezone.now())

    @admin.action(description="Unsuspend (accept their devices again)", permissions=["suspend"])
    def unsuspend(self, request, queryset):
        _set_suspended(self, request, queryset, None)


def _set_suspended(model_admin, request, queryset, at) -> None:
    """One ``save()`` per organization, not ``update()``: the broker's receivers queue
    its nodes' disabling or enabling (brokerauth/receivers.py) and caches are cleared."""
    changed = 0
    for organization in queryset.filter(suspended_at__isnull=at is not None):
        organization.suspended_at = at
        organization.save(update_fields=["suspended_at"])
        changed += 1
    verb = "suspended" if at is not None else "unsuspended"
    model_admin.message_user(request, f"{changed} organization(s) {verb}.")


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    form = MembershipForm
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__username", "organization__name"]

    def has_add_permission(self, request) -> bool:
        # Owners invite (the person must accept); operators add directly.
        return request.user.is_active and request.user.is_superuser

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type("ActorMembershipForm", (form,), {"actor": request.user})

    def save_model(self, request, obj, form, change):
        before = Membership.objects.filter(pk=obj.pk).values_list("organization_id", flat=True)
        before = set(before)
        super().save_model(request, obj, form, change)  # checks the new organization
        # Still inside the admin's transaction: the old organization keeps an owner.
        if before and without_owner(before):
            raise PermissionDenied(LAST_OWNER)

    def delete_model(self, request, obj):
        if owners_left_without([obj]):
            raise PermissionDenied(LAST_OWNER)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if owners_left_without(list(queryset)):
            self.message_user(request, LAST_OWNER, level=messages.ERROR)
            raise PermissionDenied(LAST_OWNER)
        super().delete_queryset(request, queryset)


@admin.register(User)
class SensorGridUserAdmin(UserAdmin):
    """Django's user admin (superusers only), minus leaving an organization ownerless."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        owned = Membership.objects.filter(user=obj, role=Role.OWNER)
        if not obj.is_active and without_owner(
            set(owned.values_list("organization_id", flat=True))
        ):
            raise PermissionDenied(LAST_OWNER)

    def delete_model(self, request, obj):
        if owners_left_without(list(Membership.objects.filter(user=obj))):
            raise PermissionDenied(LAST_OWNER)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if owners_left_without(list(Membership.objects.filter(user__in=queryset))):
            raise PermissionDenied(LAST_OWNER)
        super().delete_queryset(request, queryset)
