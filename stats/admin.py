from django.contrib import admin

from stats import services
from stats.models import (
    BusinessHours,
    BusinessHoursInterval,
    DashboardSettings,
    Holiday,
    QueueSettings,
    RebuildJob,
)


@admin.register(DashboardSettings)
class DashboardSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "agents_can_view", "time_zone"]

    def has_add_permission(self, request):
        return not DashboardSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        # Through the service: it clears the cache and rebuilds when the zone changes.
        saved = services.save_dashboard_settings(
            actor=request.user,
            agents_can_view=obj.agents_can_view,
            time_zone=obj.time_zone,
        )
        obj.pk = saved.pk


class IntervalInline(admin.TabularInline):
    model = BusinessHoursInterval
    extra = 1


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(BusinessHours)
class BusinessHoursAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    inlines = [IntervalInline, HolidayInline]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.business_hours_changed(actor=request.user, schedule=form.instance)


@admin.register(QueueSettings)
class QueueSettingsAdmin(admin.ModelAdmin):
    list_display = ["queue", "business_hours", "first_response_target", "resolution_target"]
    list_select_related = ["queue", "business_hours"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.queue_settings_changed(actor=request.user, queue_ids=[obj.queue_id])

    def delete_model(self, request, obj):
        queue_id = obj.queue_id
        super().delete_model(request, obj)
        services.queue_settings_changed(actor=request.user, queue_ids=[queue_id])


@admin.register(RebuildJob)
class RebuildJobAdmin(admin.ModelAdmin):
    list_display = ["pk", "reason", "since", "queue", "status", "percent", "created_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in RebuildJob._meta.fields]

    def has_add_permission(self, request):
        return False
