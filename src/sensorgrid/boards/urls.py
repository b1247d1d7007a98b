from django.urls import path

from sensorgrid.boards import views

app_name = "boards"

urlpatterns = [
    path("", views.board_list, name="list"),
    path("new/", views.board_new, name="new"),
    path("import/", views.board_import, name="import"),
    path("<int:pk>/", views.board_page, name="board"),
    path("shared/<str:token>/", views.shared_page, name="shared"),
]
