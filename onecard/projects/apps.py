from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "onecard.projects"
    label = "projects"
    verbose_name = "Implementation projects"
